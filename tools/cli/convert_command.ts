/**
 * `vlm convert --from DIR --out DIR [--dtype fp32|fp16|int8|uint8|q4|q4f16|bnb4] [--layout hf|modular]
 * [--variant V] [--encoder-from SRC] [--decoder-from SRC]
 * [--projector-from SRC|seed:N] [--prefix PREFIX] [--force] [--json]`:
 * safetensors checkpoints → a runnable ONNX model folder, in TypeScript.
 *
 * @module
 */
import type { Checkpoint } from "../../src/build/checkpoint/checkpoint.ts";
import { openCheckpoint } from "../../src/build/checkpoint/checkpoint.ts";
import type { ModelPart, PartOrigin } from "../../src/build/checkpoint/checkpoint_weights.ts";
import { convertCheckpointToFolder } from "../../src/build/checkpoint/convert.ts";
import { WEIGHT_FORMATS, type WeightFormat } from "../../src/build/layers/ops.ts";
import { UsageError } from "../../src/errors/usage_error.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { LAYOUTS as REGISTERED_LAYOUTS } from "../../src/families/registry.ts";
import type { PullProgress } from "../../src/hub/progress.ts";
import { pullModel } from "../../src/hub/pull.ts";
import { HF_SCHEME, parseHfSource } from "../../src/hub/repo_id.ts";
import type { ArtifactLayout, VariantSpec } from "../../src/spec/types.ts";
import { parseCommandArgs, requireString } from "./args.ts";
import { checkpointSpec } from "./checkpoint_spec.ts";
import { type Command, humanBytes, printJson } from "./command.ts";
import { type FolderFile, writeFolderStreaming } from "./folder_writer.ts";
import { loadVariant } from "./variant_source.ts";

const usage = `Usage: vlm convert --from DIR --out DIR [options]

Converts a Hugging Face safetensors checkpoint (model.safetensors, or shards
listed by model.safetensors.index.json; F32, BF16 or F16) into a runnable
model folder with the same graphs as \`vlm synth\`. It streams: each tensor
is read, converted and appended to <file>.onnx_data, so memory stays near
the largest tensor; every graph keeps its weights in external data. The spec comes from the
checkpoint's config.json or --variant; a MobileVLM checkpoint's
config.json is read together with the --encoder-from CLIP folder's.

Options:
  --from SRC            checkpoint folder (or hf:owner/name[@rev]) for every part
  --out DIR             output folder (required; written atomically, nothing left on failure)
  --dtype D             fp32 (default) | fp16 | int8 | uint8 | q4 | q4f16 | bnb4
  --layout L            hf | modular; default: the spec's
  --variant V           preset name or spec .json (default: --from's config.json)
  --encoder-from SRC    the vision tower from another checkpoint, or seed:N
  --projector-from SRC  the projector (connector) from another checkpoint, or seed:N
  --decoder-from SRC    the language model (and head) from another checkpoint, or seed:N
  --prefix P            tensor name prefix of a model nested in a bigger checkpoint
  --force               replace a non-empty --out folder
  --json                print {variant, out, layout, dtype, tensors, files, seconds}

Tokenizer and processor files are copied from the --from folder. On a
terminal, progress (tensor k/n) goes to stderr.`;

/** The dtypes the builder emits (every published form but `_quantized`). */
const DTYPES: readonly WeightFormat[] = WEIGHT_FORMATS;
/** Published dtypes the builder does not emit: refused by name. */
const NOT_YET = ["quantized"];
const LAYOUTS: Record<string, ArtifactLayout> = Object.fromEntries(
  REGISTERED_LAYOUTS.map((layout) => [layout.cliName, layout.name]),
);
/** Files taken from the checkpoint folder over the generated ones. */
const COPIED = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "chat_template.json",
  "chat_template.jinja",
  "preprocessor_config.json",
  "processor_config.json",
  "generation_config.json",
];

/** A `--*-from` value. */
export type WeightSourceArg =
  | { kind: "folder"; path: string }
  | { kind: "hub"; repo: string; revision?: string }
  | { kind: "seed"; seed: number };

/** Parses `DIR`, `hf:owner/name[@rev]` or `seed:N` for flag `--${flag}`. */
export function parseWeightSourceArg(flag: string, value: string): WeightSourceArg {
  if (value.startsWith("seed:")) {
    const text = value.slice(5);
    const seed = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(seed) || seed > 2 ** 32 - 1) {
      throw new UsageError(
        `vlm convert: --${flag} ${value}: the seed must be an integer 0…${2 ** 32 - 1}`,
        `pass --${flag} seed:0`,
      );
    }
    return { kind: "seed", seed };
  }
  if (value.startsWith(HF_SCHEME)) {
    const { repo, revision } = parseHfSource(value);
    return { kind: "hub", repo, ...(revision ? { revision } : {}) };
  }
  if (value.length === 0) {
    throw new UsageError(`vlm convert: --${flag} is empty`, `pass --${flag} DIR`);
  }
  return { kind: "folder", path: value };
}

function choice<T extends string>(
  flag: string,
  value: unknown,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) {
    return value as T;
  }
  if (flag === "dtype" && typeof value === "string" && NOT_YET.includes(value)) {
    throw new VlmError("usage", `vlm convert: the builder does not emit --dtype ${value} yet`, {
      fix: `use --dtype ${allowed.join(", --dtype ")}`,
    });
  }
  throw new UsageError(
    `vlm convert: --${flag} ${String(value)} is not one of ${allowed.join(", ")}`,
    `pass --${flag} ${allowed[0]}`,
  );
}

/** A terminal progress line for a checkpoint download. */
function pullProgress(label: string): (event: PullProgress) => void {
  return (event) => {
    if (!Deno.stderr.isTerminal()) return;
    const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
    const done = event.filesDone === event.fileCount;
    const text = `\rpull ${label}: ${mb(event.bytes)}/${mb(event.total)} MB${done ? "\n" : ""}`;
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  };
}

function progress(read: number, total: number): void {
  if (!Deno.stderr.isTerminal()) return;
  const text = `\rconvert: tensor ${read}/${total}${read === total ? "\n" : ""}`;
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}

async function readCopied(folder: string): Promise<FolderFile[]> {
  const out: FolderFile[] = [];
  for (const path of COPIED) {
    try {
      out.push({ path, bytes: await Deno.readFile(`${folder}/${path}`) });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return out;
}

/** What one conversion wrote (the `--json` output). */
export interface ConvertSummary {
  /** The spec's name. */
  variant: string;
  /** The output folder. */
  out: string;
  /** Its layout. */
  layout: string;
  /** Storage of matmul weights. */
  dtype: WeightFormat;
  /** Tensors read from checkpoints. */
  tensors: number;
  /** Every file written. */
  files: { path: string; bytes: number }[];
  /** Wall time. */
  seconds: number;
}

/** Runs `vlm convert` with command-line `args`; returns what it wrote. */
export async function convertFromArgs(args: string[]): Promise<ConvertSummary> {
  const parsed = parseCommandArgs("convert", args, {
    from: { type: "string" },
    out: { type: "string" },
    dtype: { type: "string" },
    layout: { type: "string" },
    variant: { type: "string" },
    "encoder-from": { type: "string" },
    "projector-from": { type: "string" },
    "decoder-from": { type: "string" },
    prefix: { type: "string" },
    force: { type: "boolean" },
  });
  const out = requireString("convert", parsed, "out");
  const dtype = choice("dtype", parsed.values.dtype, DTYPES) ?? "fp32";
  const layoutFlag = choice("layout", parsed.values.layout, Object.keys(LAYOUTS));
  const prefix = typeof parsed.values.prefix === "string" ? parsed.values.prefix : "";
  const flag = (name: string) => {
    const value = parsed.values[name];
    return typeof value === "string" ? parseWeightSourceArg(name, value) : undefined;
  };
  let from = flag("from");
  if (from?.kind === "seed") {
    throw new UsageError(
      "vlm convert: --from takes a checkpoint, not a seed",
      "use `vlm synth --seed N`",
    );
  }
  const perPart: Record<ModelPart, WeightSourceArg | undefined> = {
    vision: flag("encoder-from") ?? from,
    projector: flag("projector-from") ?? from,
    text: flag("decoder-from") ?? from,
    head: flag("decoder-from") ?? from,
  };
  for (const [part, source] of Object.entries(perPart)) {
    if (!source) {
      throw new UsageError(
        `vlm convert: no source for the ${part} part`,
        "pass --from DIR (or --encoder-from, --projector-from and --decoder-from)",
      );
    }
  }
  // hf: sources become folders in the Hub cache: configs and safetensors weights only.
  const pulls = new Map<string, Promise<string>>();
  const local = async (source: WeightSourceArg): Promise<WeightSourceArg> => {
    if (source.kind !== "hub") return source;
    const key = `${source.repo}@${source.revision ?? ""}`;
    if (!pulls.has(key)) {
      pulls.set(
        key,
        pullModel(source.repo, {
          kind: "checkpoint",
          ...(source.revision ? { revision: source.revision } : {}),
          onProgress: pullProgress(`hf:${source.repo}`),
        }).then((pulled) => pulled.path),
      );
    }
    return { kind: "folder", path: await pulls.get(key)! };
  };
  for (const part of Object.keys(perPart) as ModelPart[]) {
    perPart[part] = await local(perPart[part]!);
  }
  // A pulled folder is named by its commit; the spec takes the repo's name instead.
  const repoName = from?.kind === "hub" ? from.repo.split("/")[1].toLowerCase() : undefined;
  if (from) from = await local(from);
  if (from === undefined && typeof parsed.values.variant !== "string") {
    throw new UsageError(
      "vlm convert: without --from, --variant is required",
      "pass --variant V",
    );
  }
  const encoderFrom = perPart.vision;
  const spec: VariantSpec = typeof parsed.values.variant === "string"
    ? loadVariant(parsed.values.variant)
    : await checkpointSpec(
      (from as { path: string }).path,
      encoderFrom?.kind === "folder" ? encoderFrom.path : undefined,
    ).then((found) => repoName ? { ...found, name: repoName } : found);

  const started = performance.now();
  const opened = new Map<string, Checkpoint>();
  try {
    const origins = {} as Record<ModelPart, PartOrigin>;
    for (const [part, source] of Object.entries(perPart) as [ModelPart, WeightSourceArg][]) {
      if (source.kind === "seed") {
        origins[part] = { kind: "seed", seed: source.seed };
        continue;
      }
      const path = (source as { path: string }).path;
      let checkpoint = opened.get(path);
      if (!checkpoint) {
        checkpoint = openCheckpoint(path);
        opened.set(path, checkpoint);
      }
      origins[part] = { kind: "checkpoint", checkpoint, prefix };
    }
    const copied = from?.kind === "folder" ? await readCopied(from.path) : [];
    const names = new Set(copied.map((f) => f.path));
    // Each tensor goes from the checkpoint to the staging folder's data files and is dropped.
    const result = await writeFolderStreaming(out, parsed.values.force === true, (folder) => {
      const converted = convertCheckpointToFolder(spec, folder, {
        origins,
        dtype,
        layout: layoutFlag ? LAYOUTS[layoutFlag] : undefined,
        onTensor: progress,
      });
      for (const file of copied) folder.write(file.path, file.bytes);
      return converted;
    });
    const files = [
      ...result.files.filter((f) => !names.has(f.path)),
      ...copied.map((f) => ({ path: f.path, bytes: f.bytes.byteLength })),
    ];
    const seconds = Number(((performance.now() - started) / 1000).toFixed(2));
    return {
      variant: result.spec.name,
      out,
      layout: result.spec.artifacts.layout,
      dtype,
      tensors: result.tensorsRead,
      files,
      seconds,
    };
  } finally {
    for (const checkpoint of opened.values()) checkpoint.close();
  }
}

export const convertCommand: Command = {
  name: "convert",
  summary: "convert a safetensors checkpoint into a runnable ONNX model folder",
  usage,
  async run(args) {
    const summary = await convertFromArgs(args);
    if (args.includes("--json")) printJson(summary);
    else {
      const bytes = summary.files.reduce((sum, f) => sum + f.bytes, 0);
      console.log(
        `${summary.variant}: ${summary.tensors} tensors → ${summary.files.length} files, ${
          humanBytes(bytes)
        } in ${summary.out} (${summary.layout}, ${summary.dtype}, ${summary.seconds} s)`,
      );
    }
    return 0;
  },
};
