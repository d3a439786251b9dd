/**
 * The convert benchmark: a full-size SmolVLM-256M checkpoint (its seeded
 * weights written as BF16 safetensors under transformers' names, about
 * 0.5 GB) converted to fp32 ONNX by `vlm convert` in a process of its own,
 * which reports its wall time and peak RSS (VmHWM, as the OS sees it).
 *
 *     deno run -A tools/bench/convert_bench.ts [--variant smolvlm-256m-instruct]
 *
 * prints {variant, checkpointBytes, largestTensorBytes, outputBytes, seconds, peakRssBytes}.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { synthesize } from "../../src/build/synthesize.ts";
import { DEFAULT_PRESET, getPreset } from "../../variants/mod.ts";
import { convertFromArgs } from "../cli/convert_command.ts";
import { trackPeakRss } from "./peak_rss.ts";
import { checkpointTensors, streamCheckpoint } from "./seeded_checkpoint.ts";

/** What one conversion cost. */
export interface ConvertFigures {
  /** Preset converted. */
  variant: string;
  /** Size of the checkpoint read. */
  checkpointBytes: number;
  /** Its largest tensor, as float32 (the floor of a streaming converter's working set). */
  largestTensorBytes: number;
  /** Bytes of the folder written. */
  outputBytes: number;
  /** Wall time of the conversion (spec to written folder). */
  seconds: number;
  /** Peak resident memory of the converting process. */
  peakRssBytes: number;
}

/** Writes the seeded checkpoint of `variant` into `dir`; returns its size and largest tensor. */
export async function writeSeededCheckpoint(
  variant: string,
  dir: string,
): Promise<{ bytes: number; largestTensorBytes: number }> {
  const tensors = checkpointTensors(synthesize(getPreset(variant)));
  await Deno.mkdir(dir, { recursive: true });
  const bytes = await streamCheckpoint(`${dir}/model.safetensors`, tensors, "BF16");
  const largest = Math.max(...[...tensors.values()].map((t) => t.data.byteLength));
  return { bytes, largestTensorBytes: largest };
}

/** Converts in a child process (so the writer's memory is not counted) and returns its figures. */
export async function benchConvert(variant = DEFAULT_PRESET): Promise<ConvertFigures> {
  const work = await Deno.makeTempDir({ prefix: "vlmkit-convert-bench-" });
  try {
    // The writer runs in its own process too: this one stays small for the caller.
    const writer = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", import.meta.filename!, "--write", `${work}/ckpt`, "--variant", variant],
      stderr: "inherit",
    }).output();
    if (!writer.success) throw new Error("writing the seeded checkpoint failed");
    const written = JSON.parse(new TextDecoder().decode(writer.stdout));
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        import.meta.filename!,
        "--convert",
        `${work}/ckpt`,
        "--out",
        `${work}/out`,
        "--variant",
        variant,
      ],
      stderr: "inherit",
    }).output();
    if (!child.success) throw new Error("the conversion failed");
    const measured = JSON.parse(new TextDecoder().decode(child.stdout));
    return {
      variant,
      checkpointBytes: written.bytes,
      largestTensorBytes: written.largestTensorBytes,
      ...measured,
    };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      variant: { type: "string", default: DEFAULT_PRESET },
      write: { type: "string" },
      convert: { type: "string" },
      out: { type: "string" },
    },
  });
  if (values.write) {
    console.log(JSON.stringify(await writeSeededCheckpoint(values.variant, values.write)));
  } else if (values.convert) {
    const rss = trackPeakRss();
    const started = performance.now();
    const summary = await convertFromArgs([
      "--from",
      values.convert,
      "--variant",
      values.variant,
      "--out",
      values.out!,
    ]);
    const seconds = (performance.now() - started) / 1000;
    rss.stop();
    console.log(JSON.stringify({
      outputBytes: summary.files.reduce((sum, f) => sum + f.bytes, 0),
      seconds: Number(seconds.toFixed(2)),
      peakRssBytes: rss.peak(),
    }));
  } else {
    console.log(JSON.stringify(await benchConvert(values.variant), null, 2));
  }
}
