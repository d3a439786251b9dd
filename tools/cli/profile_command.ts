/**
 * `vlm profile --grid NAME --out DIR`: the design-space profiler. For every
 * point of a grid: parameters, weight bytes per dtype, tokens per image, KV
 * bytes at 8k (from the Plan), and latency measured on a synthesized copy —
 * the whole model when its fp32 weights fit `--full-limit` bytes, otherwise
 * full-width models of depth 1 and 3 extrapolated linearly to the real depth
 * (marked `extrapolated`). Writes profile.json, profile.md and three SVG charts.
 *
 * @module
 */
import { encode as encodePng } from "fast-png";
import { join } from "node:path";
import { synthesize } from "../../src/build/synthesize.ts";
import { type BuildScale, scaledSpec } from "../../src/build/test_scale.ts";
import { UsageError } from "../../src/errors/usage_error.ts";
import {
  type DesignFacts,
  designFacts,
  EDGE_LIMITS,
  extrapolateLayers,
} from "../../src/profile/design_point.ts";
import { renderScatter } from "../../src/profile/svg_chart.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { resolve } from "../../src/spec/resolve.ts";
import type { VariantSpec } from "../../src/spec/types.ts";
import { parseSpec } from "../../src/spec/validate.ts";
import { getPreset } from "../../variants/mod.ts";
import { smolvlmPaperGrid } from "../../variants/smolvlm_paper_grid.ts";
import { optionalNumber, parseBackend, parseCommandArgs, requireString } from "./args.ts";
import { writeFileAtomically } from "./atomic_file.ts";
import { type Command, printJson } from "./command.ts";
import { writeFolderAtomically } from "./folder_writer.ts";
import { median } from "../median.ts";
import { profileEdge } from "./edge_profile.ts";

/** Grids by name: their valid points and the invalid ones with reasons. */
const GRIDS: Record<
  string,
  () => { valid: VariantSpec[]; invalid: { name: string; reason: string }[] }
> = {
  "smolvlm-paper": () => smolvlmPaperGrid(),
  mobilevlm: () => ({
    valid: ["mobilevlm-1.7b", "mobilevlm-3b", "mobilevlm-v2-1.7b", "mobilevlm-v2-3b"].map(
      getPreset,
    ),
    invalid: [],
  }),
};

/** Depths measured for extrapolation: two layers apart, so per-layer noise is halved. */
const LOW_DEPTH = 1;
const HIGH_DEPTH = 3;

/** Latencies of one point. */
interface Measured {
  /** `full`: the whole model ran; `extrapolated`: depths 1 and 3 ran, scaled to the real depth. */
  mode: "full" | "extrapolated";
  /** Vision encoder (and connector) per tile. */
  visionMsPerTile: number;
  /** Prompt tokens per second of prefill. */
  prefillTokensPerSec: number;
  /** Generated tokens per second after the first. */
  decodeTokensPerSec: number;
  /** Estimated time to first token for the 4:3 reference photo (tiles × vision + prefill). */
  ttftPhotoMs: number;
}

const usage = `Usage: vlm profile --grid NAME --out DIR [options]
       vlm profile --model DIR [--dtype D] [--runs N] [--tokens N] [--json]

Profiles every point of a design grid (${Object.keys(GRIDS).join(", ")}).

With --model, measures one model folder at the edge instead: through the
\`vlm bundle --target edge\` bundle in a child \`deno run --no-config\` on wasm,
RSS after import and after load, and peak RSS (the child's VmHWM) for an
unsplit 512² image and a 1024×768 photo at the edge defaults (5 tiles); then
the verdict per platform (Cloudflare Workers 128 MB, Supabase Edge Functions
256 MB, Deno Deploy 512 MB) from the measured peaks, beside the estimate
\`vlm synth --json\` gives. Linux (reads /proc). --runs defaults to 1 there
(medians of N processes an image), --tokens (new tokens a request) to 16.

Options:
  --out DIR            where profile.json, profile.md and the SVG charts go
  --backend B          wasm or native (default native)
  --runs N             measured runs per model after one warm-up (default 3; medians)
  --full-limit BYTES   run whole models up to this many fp32 weight bytes (default 1.2e9)
  --scale S            full (default) | test (reduced depth and width, for a quick check)
  --json               print profile.json (with --model: the edge report)`;

/** The 1/5/15-minute load averages, or null without --allow-sys. */
function loadAverage(): number[] | null {
  try {
    return Deno.loadavg();
  } catch {
    return null;
  }
}

/** A 512×512 gradient PNG: one unsplit tile for every encoder. */
function probeImage(): Uint8Array {
  const size = 512;
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    data[i * 3] = i % 251;
    data[i * 3 + 1] = (i >> 9) % 241;
    data[i * 3 + 2] = (i * 7) % 239;
  }
  return encodePng({ width: size, height: size, data, channels: 3, depth: 8 });
}

/** `spec` with `blocks` encoder blocks on the feature path and `layers` decoder layers. */
function atDepth(spec: VariantSpec, depth: number): VariantSpec {
  const extra = spec.encoder.featureLayer === "penultimate" ? 1 : 0;
  return parseSpec({
    ...spec,
    name: `${spec.name}-depth${depth}`,
    encoder: { ...spec.encoder, layers: depth + extra },
    decoder: { ...spec.decoder, layers: depth },
  });
}

/** Runs one synthesized model: medians of vision ms/tile, prefill tokens/s, decode tokens/s. */
async function measureModel(
  spec: VariantSpec,
  options: { backend: "wasm" | "native"; runs: number; image: Uint8Array },
): Promise<{ vision: number; prefillMsPerToken: number; decodeMsPerToken: number }> {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-profile-" });
  try {
    const folder = join(dir, "model");
    await writeFolderAtomically(folder, synthesize(spec, { seed: 0 }).files, false);
    const model = await loadModel(folder, {
      backend: options.backend,
      featureCacheSize: 0,
      reusePrefix: false,
    });
    try {
      const vision: number[] = [];
      const prefill: number[] = [];
      const decode: number[] = [];
      for (let run = 0; run <= options.runs; run++) {
        const result = await model.generate({
          prompt: "Describe this image.",
          images: [options.image],
          split: false,
          maxNewTokens: 16,
          stopTokenIds: [],
        });
        if (run === 0) continue; // warm-up
        vision.push(result.timings.visionMs);
        prefill.push(result.timings.prefillMs / result.promptTokens);
        decode.push(1000 / result.timings.decodeTokensPerSec);
      }
      return {
        vision: median(vision),
        prefillMsPerToken: median(prefill),
        decodeMsPerToken: median(decode),
      };
    } finally {
      await model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function measurePoint(
  spec: VariantSpec,
  facts: DesignFacts,
  options: { backend: "wasm" | "native"; runs: number; fullLimit: number; image: Uint8Array },
): Promise<Measured> {
  let m: { vision: number; prefillMsPerToken: number; decodeMsPerToken: number };
  let mode: Measured["mode"];
  if (facts.weightBytes.fp32 <= options.fullLimit) {
    m = await measureModel(spec, options);
    mode = "full";
  } else {
    const low = await measureModel(atDepth(spec, LOW_DEPTH), options);
    const high = await measureModel(atDepth(spec, HIGH_DEPTH), options);
    const blocks = spec.encoder.layers - (spec.encoder.featureLayer === "penultimate" ? 1 : 0);
    const scale = (key: keyof typeof low, layers: number) =>
      extrapolateLayers({
        low: LOW_DEPTH,
        high: HIGH_DEPTH,
        lowCost: low[key],
        highCost: high[key],
      }, layers);
    m = {
      vision: scale("vision", blocks),
      prefillMsPerToken: scale("prefillMsPerToken", spec.decoder.layers),
      decodeMsPerToken: scale("decodeMsPerToken", spec.decoder.layers),
    };
    mode = "extrapolated";
  }
  const photo = facts.images.photo43;
  return {
    mode,
    visionMsPerTile: m.vision,
    prefillTokensPerSec: 1000 / m.prefillMsPerToken,
    decodeTokensPerSec: 1000 / m.decodeMsPerToken,
    ttftPhotoMs: photo.tiles * m.vision + (photo.tokens + 20) * m.prefillMsPerToken,
  };
}

function markdown(
  grid: string,
  points: (DesignFacts & { measured: Measured })[],
  invalid: { name: string; reason: string }[],
): string {
  const mb = (b: number) => (b / 1e6).toFixed(0);
  const lines = [
    `# Design profile: ${grid}`,
    "",
    "| variant | params | fp32 / int8 / q4 MB | tok/tile | 4:3 photo tiles / tokens | KV@8k MB | q4 edge fits (est.) | vision ms/tile | prefill tok/s | decode tok/s | TTFT 4:3 photo s | measured |",
    "|---|---:|---|---:|---|---:|---|---:|---:|---:|---:|---|",
  ];
  for (const p of points) {
    const fits = Object.entries(p.fitsEdge).filter(([, ok]) => ok).map(([k]) => k).join(", ") ||
      "none";
    lines.push(
      `| ${p.name} | ${(p.params.total / 1e6).toFixed(0)}M | ${mb(p.weightBytes.fp32)} / ${
        mb(p.weightBytes.int8)
      } / ${
        mb(p.weightBytes.q4)
      } | ${p.tokensPerTile} | ${p.images.photo43.tiles} / ${p.images.photo43.tokens} | ${
        mb(p.kvBytesAt8k)
      } | ${fits} | ${p.measured.visionMsPerTile.toFixed(0)} | ${
        p.measured.prefillTokensPerSec.toFixed(0)
      } | ${p.measured.decodeTokensPerSec.toFixed(1)} | ${
        (p.measured.ttftPhotoMs / 1000).toFixed(1)
      } | ${p.measured.mode} |`,
    );
  }
  if (invalid.length) {
    lines.push("", "Invalid grid points:", "");
    for (const p of invalid) lines.push(`- ${p.name}: ${p.reason}`);
  }
  lines.push(
    "",
    "Latency: medians after one warm-up, one unsplit 512² tile, 16 new tokens. `extrapolated` = full-width",
    "models of depth 1 and 3 measured and scaled linearly to the real depth. TTFT for the 4:3 photo",
    "(2048×1536) = tiles × vision ms/tile + prompt tokens × prefill ms/token. q4 edge fits: the estimated",
    "peak of a q4 model through the edge bundle (runtime, weights, a 1024×768 photo at 5 tiles; an",
    "estimate from the edge bench's constants, see `estimateEdgePeak`) under the edge memory limit.",
    "",
  );
  return lines.join("\n");
}

export const profileCommand: Command = {
  name: "profile",
  summary:
    "profile a design grid: params, bytes, tokens, KV, measured latency; JSON, Markdown, SVG",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("profile", args, {
      grid: { type: "string" },
      out: { type: "string" },
      backend: { type: "string" },
      runs: { type: "string" },
      "full-limit": { type: "string" },
      scale: { type: "string" },
      model: { type: "string" },
      dtype: { type: "string" },
      tokens: { type: "string" },
    });
    const edgeFlags = ["dtype", "tokens"].filter((f) => parsed.values[f] !== undefined);
    if (parsed.values.model !== undefined) {
      const clash = ["grid", "out", "backend", "full-limit", "scale"]
        .filter((f) => parsed.values[f] !== undefined);
      if (clash.length) {
        throw new UsageError(
          `vlm profile: --model measures one model at the edge; --${clash[0]} is for --grid`,
          `drop --${clash.join(", --")}, or profile a grid without --model`,
        );
      }
      return await profileEdge(parsed, requireString("profile", parsed, "model"));
    }
    if (edgeFlags.length) {
      throw new UsageError(
        `vlm profile: --${edgeFlags[0]} goes with --model`,
        "pass --model DIR to profile one model at the edge",
      );
    }
    const gridName = requireString("profile", parsed, "grid");
    const grid = GRIDS[gridName];
    if (!grid) {
      throw new UsageError(
        `vlm profile: unknown grid "${gridName}"`,
        `use one of ${Object.keys(GRIDS).join(", ")}`,
      );
    }
    const out = requireString("profile", parsed, "out");
    const scale = (parsed.values.scale ?? "full") as BuildScale;
    if (scale !== "full" && scale !== "test") {
      throw new UsageError(`vlm profile: --scale ${scale}`, "use full or test");
    }
    const options = {
      backend: parsed.values.backend ? parseBackend("profile", parsed) : "native" as const,
      runs: optionalNumber("profile", parsed, "runs", { min: 1, max: 50, integer: true }) ?? 3,
      fullLimit: optionalNumber("profile", parsed, "full-limit", { min: 0, max: 1e12 }) ?? 1.2e9,
      image: probeImage(),
    };
    const { valid, invalid } = grid();
    const points: (DesignFacts & { measured: Measured })[] = [];
    for (const base of valid) {
      const spec = scaledSpec(base, scale);
      const facts = designFacts(resolve(spec));
      const started = performance.now();
      const measured = await measurePoint(spec, facts, options);
      points.push({ ...facts, measured });
      console.error(
        `profile: ${spec.name} ${measured.mode} — vision ${
          measured.visionMsPerTile.toFixed(0)
        } ms/tile, decode ${measured.decodeTokensPerSec.toFixed(1)} tok/s (${
          ((performance.now() - started) / 1000).toFixed(0)
        } s)`,
      );
    }
    const profile = {
      grid: gridName,
      scale,
      backend: options.backend,
      runs: options.runs,
      // The load average tells a reader whether something else shared the CPU.
      machine: {
        cpus: navigator.hardwareConcurrency,
        deno: Deno.version.deno,
        loadAverage: loadAverage(),
      },
      edgeLimits: EDGE_LIMITS,
      points,
      invalid,
    };
    await Deno.mkdir(out, { recursive: true });
    const text = (s: string) => new TextEncoder().encode(s);
    await writeFileAtomically(
      join(out, "profile.json"),
      text(JSON.stringify(profile, null, 2) + "\n"),
    );
    await writeFileAtomically(join(out, "profile.md"), text(markdown(gridName, points, invalid)));
    const label = (p: DesignFacts) => p.name.replace(/^smolvlm-grid-/, "");
    await writeFileAtomically(
      join(out, "params_vs_decode.svg"),
      text(renderScatter({
        title: `${gridName}: parameters vs decode speed`,
        xLabel: "parameters",
        yLabel: "decode tokens/s",
        logX: true,
        points: points.map((p) => ({
          x: p.params.total,
          y: p.measured.decodeTokensPerSec,
          label: label(p),
          hollow: p.measured.mode === "extrapolated",
        })),
      })),
    );
    await writeFileAtomically(
      join(out, "tokens_vs_ttft.svg"),
      text(renderScatter({
        title: `${gridName}: image tokens (4:3 photo) vs time to first token`,
        xLabel: "image tokens",
        yLabel: "TTFT (ms)",
        points: points.map((p) => ({
          x: p.images.photo43.tokens,
          y: p.measured.ttftPhotoMs,
          label: label(p),
          hollow: p.measured.mode === "extrapolated",
        })),
      })),
    );
    await writeFileAtomically(
      join(out, "memory_vs_limits.svg"),
      text(renderScatter({
        title: `${gridName}: estimated q4 edge peak (runtime included) vs edge memory limits`,
        xLabel: "parameters",
        yLabel: "bytes",
        logX: true,
        logY: true,
        points: points.map((p) => ({
          x: p.params.total,
          y: p.edgeEstimate.peakBytes.photo,
          label: label(p),
        })),
        lines: Object.entries(EDGE_LIMITS).map(([name, y]) => ({ y, label: name })),
      })),
    );
    if (parsed.values.json) printJson(profile);
    else {console.log(
        `profile: ${points.length} points → ${out} (profile.json, profile.md, 3 SVG charts)`,
      );}
    return 0;
  },
};
