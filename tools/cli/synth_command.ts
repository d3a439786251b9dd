/**
 * `vlm synth --variant V --out DIR [--seed N] [--dtype fp32|fp16|int8|uint8|q4|q4f16|bnb4]
 * [--layout hf|modular] [--scale full|test] [--stream|--inline] [--force] [--json]`: writes a
 * runnable model folder with seeded weights for any spec.
 *
 * @module
 */
import { LAYOUTS as REGISTERED_LAYOUTS } from "../../src/families/registry.ts";
import { synthesize, synthesizeToFolder } from "../../src/build/synthesize.ts";
import { synthProgressReporter } from "./synth_progress.ts";
import { WEIGHT_FORMATS, type WeightFormat } from "../../src/build/layers/ops.ts";
import type { BuildScale } from "../../src/build/test_scale.ts";
import { UsageError } from "../../src/errors/usage_error.ts";
import type { ArtifactLayout } from "../../src/spec/types.ts";
import { optionalNumber, parseCommandArgs, requireString } from "./args.ts";
import { type Command, humanBytes, printJson } from "./command.ts";
import { writeFolderAtomically, writeFolderStreaming } from "./folder_writer.ts";
import { wasmMemoryEstimate } from "../../src/runtime/wasm_memory.ts";
import { estimateEdgePeak } from "../../src/profile/edge_verdict.ts";
import { loadVariant } from "./variant_source.ts";

const usage = `Usage: vlm synth --variant <spec.json|preset> --out DIR [options]

Builds ONNX modules with deterministic seeded weights for the variant and
writes a model folder that \`vlm run\` (and, for the hf layout,
transformers.js) can load.

Options:
  --variant V       preset name or spec .json file (required)
  --out DIR         output folder (required; written atomically)
  --seed N          weight seed (default 0)
  --dtype D         the published file forms, default fp32:
                      fp32 | fp16 (float16 weights and I/O) |
                      int8 | uint8 (per-channel weights, dynamic activations) |
                      q4 | q4f16 (MatMulNBits, block 32; q4f16 with float16 scales and I/O) |
                      bnb4 (MatMulBnb4, NF4, block 64)
  --layout L        hf (vision_encoder + embed_tokens + decoder_model_merged) | modular
                    (encoder, projector, embed_tokens, decoder + vlmkit.json); default: the spec's
  --scale S         full (default) | test (two layers, narrow widths, same structure)
  --stream          write each weight to <file>.onnx_data as it is made, keeping
                    memory near the largest tensor (default at --scale full)
  --inline          build in memory and keep weights inside each .onnx while they
                    fit in 2 GiB (default at --scale test)
  --force           replace a non-empty --out folder
  --json            print {variant, out, layout, dtype, scale, seed, files, parameters,
                    planParameters, wasm: {weightBytes, peakBytes, fits}, edge: {kind: "estimate",
                    method, afterLoadBytes, peakBytes: {unsplit, photo}, platforms: [{platform,
                    limitBytes, unsplit, photo}]}}: edge is the estimated peak of the whole edge
                    process (runtime + weights + one request; \`vlm profile --model\` measures it)
                    against Cloudflare Workers 128 MB, Supabase 256 MB, Deno Deploy 512 MB

Streamed folders, and in-memory graphs whose weights exceed 2 GiB, keep the
weights in <file>.onnx_data (transformers.js reads it: config.json says so). Variants
whose weights need more than the wasm backend's 4 GiB address space (about
twice the weight bytes while loading) run on the native backend only.`;

const DTYPES: readonly WeightFormat[] = WEIGHT_FORMATS;
/** `--layout` names: each registered layout's short CLI name. */
const LAYOUTS: Record<string, ArtifactLayout> = Object.fromEntries(
  REGISTERED_LAYOUTS.map((layout) => [layout.cliName, layout.name]),
);
const SCALES: readonly BuildScale[] = ["full", "test"];

function choice<T extends string>(
  flag: string,
  value: unknown,
  allowed: readonly T[],
  fallback?: T,
): T | undefined {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) {
    return value as T;
  }
  throw new UsageError(
    `vlm synth: --${flag} ${String(value)} is not one of ${allowed.join(", ")}`,
    `pass --${flag} ${allowed[0]}`,
  );
}

export const synthCommand: Command = {
  name: "synth",
  summary: "synthesize runnable ONNX modules with seeded weights for a spec",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("synth", args, {
      variant: { type: "string" },
      out: { type: "string" },
      seed: { type: "string" },
      dtype: { type: "string" },
      layout: { type: "string" },
      scale: { type: "string" },
      stream: { type: "boolean" },
      inline: { type: "boolean" },
      force: { type: "boolean" },
    });
    const spec = loadVariant(requireString("synth", parsed, "variant"));
    const out = requireString("synth", parsed, "out");
    const seed =
      optionalNumber("synth", parsed, "seed", { integer: true, min: 0, max: 2 ** 32 - 1 }) ?? 0;
    const dtype = choice("dtype", parsed.values.dtype, DTYPES, "fp32")!;
    const layoutFlag = choice("layout", parsed.values.layout, Object.keys(LAYOUTS));
    const scale = choice("scale", parsed.values.scale, SCALES, "full")!;
    if (parsed.values.stream && parsed.values.inline) {
      throw new UsageError("vlm synth: --stream and --inline exclude each other", "pass one");
    }
    const stream = parsed.values.stream === true ||
      (parsed.values.inline !== true && scale === "full");
    const started = performance.now();
    const progress = synthProgressReporter();
    const options = {
      seed,
      dtype,
      scale,
      layout: layoutFlag ? LAYOUTS[layoutFlag] : undefined,
      onProgress: progress.report,
    };
    const force = parsed.values.force === true;
    let result;
    try {
      if (stream) {
        // Each weight goes to the staging folder's data files as it is made, and is dropped.
        result = await writeFolderStreaming(
          out,
          force,
          (folder) => synthesizeToFolder(spec, folder, options),
        );
      } else {
        const built = synthesize(spec, options);
        await writeFolderAtomically(out, built.files, force);
        result = {
          ...built,
          files: built.files.map((f) => ({ path: f.path, bytes: f.bytes.byteLength })),
        };
      }
    } finally {
      progress.end();
    }
    const bytes = result.files.reduce((sum, f) => sum + f.bytes, 0);
    const summary = {
      variant: result.spec.name,
      out,
      layout: result.spec.artifacts.layout,
      dtype,
      scale,
      seed,
      files: result.files,
      parameters: result.parameters,
      planParameters: result.plan.params.total,
      wasm: wasmMemoryEstimate(result.plan),
      // Whole-process peak per edge platform: an estimate (the model is not run here).
      edge: estimateEdgePeak(result.plan),
    };
    if (parsed.values.json) printJson(summary);
    else {
      console.log(
        `${summary.variant}: ${result.files.length} files, ${humanBytes(bytes)} in ${out} ` +
          `(${summary.layout}, ${dtype}, seed ${seed}, ${
            ((performance.now() - started) / 1000).toFixed(1)
          } s)`,
      );
      if (!summary.wasm.fits) {
        console.log(
          `note: its wasm heap needs about ${
            humanBytes(summary.wasm.heapBytes)
          } plus room for a request (limit 4 GiB): ` +
            "run it with --backend native",
        );
      }
      const fits = summary.edge.platforms.filter((p) => p.photo).map((p) => p.platform);
      console.log(
        `edge (estimate, wasm): peak ~${humanBytes(summary.edge.peakBytes.photo)} for a photo at ` +
          `5 tiles; fits ${fits.join(", ") || "no edge platform (128/256/512 MB)"}; ` +
          "measure with `vlm profile --model DIR`",
      );
    }
    return 0;
  },
};
