/**
 * The convert benchmark: a full-size SmolVLM-256M checkpoint (its seeded
 * weights written as BF16 safetensors under transformers' names, about
 * 0.5 GB) converted to fp32 ONNX by `vlm convert` in a process of its own,
 * which reports its wall time and peak RSS (VmHWM, as the OS sees it); and
 * `vlm synth` of the same preset, likewise. Both stream tensor by tensor to
 * external data, so their peaks should sit near the largest tensor plus the
 * runtime, not the model's size.
 *
 *     deno run -A tools/bench/convert_bench.ts [--variant smolvlm-256m-instruct] [--inline]
 *
 * prints {variant, checkpointBytes, largestTensorBytes, outputBytes, seconds, peakRssBytes,
 * synth: {outputBytes, seconds, peakRssBytes}}. `--inline` measures `vlm synth --inline`
 * (the in-memory build) instead of the streamed one.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { synthesize } from "../../src/build/synthesize.ts";
import { DEFAULT_PRESET, getPreset } from "../../variants/mod.ts";
import { convertFromArgs } from "../cli/convert_command.ts";
import { synthCommand } from "../cli/synth_command.ts";
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
  /** `vlm synth` of the same preset (seeded weights, same dtype and layout). */
  synth: ProcessFigures;
}

/** Output size, wall time and peak RSS of one child process. */
export interface ProcessFigures {
  /** Bytes of the folder written. */
  outputBytes: number;
  /** Wall time. */
  seconds: number;
  /** Peak resident memory of the process. */
  peakRssBytes: number;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    total += entry.isDirectory ? await folderBytes(path) : (await Deno.stat(path)).size;
  }
  return total;
}

/** Runs this file with `args` in a child process; returns its last stdout line as JSON. */
async function runStep(args: string[]): Promise<Record<string, unknown>> {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, ...args],
    stderr: "inherit",
  }).output();
  if (!run.success) throw new Error(`the benchmark step ${args[0]} failed`);
  const lines = new TextDecoder().decode(run.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
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

/**
 * Converts in a child process (so the writer's memory is not counted), then
 * synthesizes the same preset in another, and returns their figures.
 */
export async function benchConvert(
  variant = DEFAULT_PRESET,
  inline = false,
): Promise<ConvertFigures> {
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
    await Deno.remove(`${work}/out`, { recursive: true });
    const synth = await runStep([
      "--synth",
      `${work}/synth`,
      "--variant",
      variant,
      ...(inline ? ["--inline"] : []),
    ]) as unknown as ProcessFigures;
    return {
      variant,
      checkpointBytes: written.bytes,
      largestTensorBytes: written.largestTensorBytes,
      ...measured,
      synth,
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
      synth: { type: "string" },
      inline: { type: "boolean" },
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
  } else if (values.synth) {
    const rss = trackPeakRss();
    const started = performance.now();
    const args = ["--variant", values.variant, "--out", values.synth];
    const code = await synthCommand.run(values.inline ? [...args, "--inline"] : args);
    const seconds = (performance.now() - started) / 1000;
    rss.stop();
    if (code !== 0) Deno.exit(code);
    console.log(JSON.stringify({
      outputBytes: await folderBytes(values.synth),
      seconds: Number(seconds.toFixed(2)),
      peakRssBytes: rss.peak(),
    }));
  } else {
    console.log(JSON.stringify(await benchConvert(values.variant, values.inline), null, 2));
  }
}
