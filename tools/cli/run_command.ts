/**
 * `vlm run --model DIR --image PATH --prompt T [...]`: answer a question
 * about images with a model folder, streaming the text (or one JSON object
 * with `--json`).
 *
 * @module
 */
import { loadModel } from "../../src/runtime/load_model.ts";
import type { GenerateRequest } from "../../src/runtime/generation_types.ts";
import type { Q4Kernel, Q4KernelReport } from "../../src/runtime/q4_kernel.ts";
import type { Dtype } from "../../src/spec/types.ts";
import { DTYPE_SUFFIX } from "../../src/spec/resolve.ts";
import {
  optionalNumber,
  parseBackend,
  parseCommandArgs,
  parseDtype,
  requireString,
} from "./args.ts";
import { type Command, printJson } from "./command.ts";
import { dumpInputs } from "./dump_inputs.ts";
import { MAX_PIXELS_HELP, MAX_PIXELS_OPTION, parseMaxPixels } from "./max_pixels.ts";
import { AnswerStart, trimAnswerStart } from "../../src/text/answer_start.ts";
import { trackPeakRss } from "../bench/peak_rss.ts";

const DEFAULT_MAX_NEW_TOKENS = 128;
const DTYPES = Object.keys(DTYPE_SUFFIX) as Dtype[];

const usage = `Usage: vlm run --model DIR --image PATH [--image PATH ...] --prompt TEXT
               [--max-new-tokens N] [--backend wasm|native] [--threads N] [--dtype D]
               [--no-split] [--max-tiles N] [--temperature T] [--top-k K] [--top-p P]
               [--repetition-penalty R] [--seed S] [--stop TEXT ...]
               [--keep-special-tokens] [--dump-inputs DIR] [--max-pixels N]
               [--q4-kernel auto|int8|original] [--json]

Runs a model folder in the Hugging Face Idefics3/SmolVLM ONNX layout on the
images and the question, and streams the answer to stdout.

Options:
  --model DIR             model folder (config.json, onnx/, tokenizer.json, ...)
  --image PATH            an image file (PNG or JPEG); repeat for several images
  --prompt TEXT           the question (required)
  --max-new-tokens N      upper bound on generated tokens (default ${DEFAULT_MAX_NEW_TOKENS})
  --backend B             wasm (onnxruntime-web, default) or native (onnxruntime-node; --allow-ffi)
  --threads N             ONNX Runtime threads
  --dtype D               ONNX file variant: ${DTYPES.join(", ")} (default: detected from the
                          folder's files)
  --q4-kernel K           4-bit weights (q4, q4f16, bnb4): auto (default) re-packs them to int8
                          at load on wasm, which has no fast 4-bit kernel; int8 re-packs on
                          every backend; original keeps the published kernel
  --no-split              one tile per image instead of splitting
  --max-tiles N           most tiles per image (default 5 on wasm, no cap on native; a split
                          image over it is tiled at a smaller size; 1 = unsplit)
  --temperature T         sampling temperature; 0 = greedy (default 0)
  --top-k K, --top-p P    sampling filters
  --repetition-penalty R  penalty for repeated tokens (default 1)
  --seed S                sampling seed (default 0)
  --stop TEXT             stop string; repeat for several
  --keep-special-tokens   keep special tokens in the text (DocTags)
  --dump-inputs DIR       also write input_ids.bin (int64 LE), pixel_values.bin (f32 LE),
                          pixel_attention_mask.bin (u8) and shapes.json to DIR
${MAX_PIXELS_HELP}
  --json                  print {text, tokenIds, promptTokens, imageTokens, imagePlan,
                          timings:{loadMs, preprocessMs, visionMs, prefillMs, ttftMs,
                          decodeTokensPerSec}, peakRssBytes}; peakRssBytes is the
                          kernel's high-water mark (VmHWM; getrusage off Linux)`;

/**
 * Runs a task and returns its result with the process's peak resident memory
 * as the OS counts it (VmHWM, else getrusage, else sampled: see peak_rss.ts).
 */
async function withPeakRss<T>(task: () => Promise<T>): Promise<{ value: T; peakRssBytes: number }> {
  const rss = trackPeakRss();
  try {
    const value = await task();
    return { value, peakRssBytes: rss.peak() };
  } finally {
    rss.stop();
  }
}

/** How the 4-bit matmuls ran, for the summary line ("" when the model has none). */
function q4Summary(reports: readonly Q4KernelReport[]): string {
  const repacked = reports.reduce((n, r) => n + r.rewritten, 0);
  const kept = reports.reduce((n, r) => n + r.kept.length, 0);
  if (repacked + kept === 0) return "";
  return `; 4-bit matmuls: ${repacked} re-packed to int8, ${kept} kept`;
}

export const runCommand: Command = {
  name: "run",
  summary: "answer a prompt about images with a model folder (streams text)",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("run", args, {
      model: { type: "string" },
      image: { type: "string", multiple: true },
      prompt: { type: "string" },
      "max-new-tokens": { type: "string" },
      backend: { type: "string" },
      threads: { type: "string" },
      dtype: { type: "string" },
      "no-split": { type: "boolean" },
      "max-tiles": { type: "string" },
      temperature: { type: "string" },
      "top-k": { type: "string" },
      "top-p": { type: "string" },
      "repetition-penalty": { type: "string" },
      seed: { type: "string" },
      stop: { type: "string", multiple: true },
      "keep-special-tokens": { type: "boolean" },
      "dump-inputs": { type: "string" },
      "q4-kernel": { type: "string" },
      ...MAX_PIXELS_OPTION,
    });
    const modelDir = requireString("run", parsed, "model");
    const prompt = requireString("run", parsed, "prompt");
    const images = (parsed.values.image as string[] | undefined) ?? [];
    const backend = parseBackend("run", parsed);
    const dtype = parseDtype("run", parsed);
    const request: GenerateRequest = {
      prompt,
      images,
      maxNewTokens:
        optionalNumber("run", parsed, "max-new-tokens", { min: 1, max: 1e6, integer: true }) ??
          DEFAULT_MAX_NEW_TOKENS,
      split: parsed.values["no-split"] ? false : undefined,
      maxTiles: optionalNumber("run", parsed, "max-tiles", { min: 1, max: 10_000, integer: true }),
      temperature: optionalNumber("run", parsed, "temperature", { min: 0, max: 100 }),
      topK: optionalNumber("run", parsed, "top-k", { min: 0, max: 1e9, integer: true }),
      topP: optionalNumber("run", parsed, "top-p", { min: 1e-9, max: 1 }),
      repetitionPenalty: optionalNumber("run", parsed, "repetition-penalty", {
        min: 1e-6,
        max: 100,
      }),
      seed: optionalNumber("run", parsed, "seed", { min: 0, max: 2 ** 32 - 1, integer: true }),
      stopStrings: parsed.values.stop as string[] | undefined,
      skipSpecialTokens: !parsed.values["keep-special-tokens"],
    };
    const json = parsed.values.json === true;
    const threads = optionalNumber("run", parsed, "threads", { min: 1, max: 256, integer: true });
    const maxPixels = parseMaxPixels("run", parsed);
    const q4Kernel = parsed.values["q4-kernel"] as Q4Kernel | undefined;
    let q4Kernels: readonly Q4KernelReport[] = [];

    const { value: result, peakRssBytes } = await withPeakRss(async () => {
      const model = await loadModel(modelDir, { backend, threads, dtype, maxPixels, q4Kernel });
      q4Kernels = model.q4Kernels;
      try {
        const dumpDir = parsed.values["dump-inputs"] as string | undefined;
        if (dumpDir) await dumpInputs(dumpDir, await model.prepareInputs(request));
        if (json) return await model.generate(request);
        const stream = model.stream(request);
        const encoder = new TextEncoder();
        const answer = new AnswerStart();
        for await (const delta of stream) {
          await Deno.stdout.write(encoder.encode(answer.push(delta)));
        }
        await Deno.stdout.write(encoder.encode("\n"));
        return await stream.result;
      } finally {
        await model.dispose();
      }
    });
    const t = result.timings;
    if (json) {
      printJson({
        text: trimAnswerStart(result.text),
        tokenIds: result.tokenIds,
        promptTokens: result.promptTokens,
        imageTokens: result.imageTokens,
        imagePlan: result.imagePlan,
        timings: {
          loadMs: t.loadMs,
          preprocessMs: t.preprocessMs,
          visionMs: t.visionMs,
          prefillMs: t.prefillMs,
          ttftMs: t.ttftMs,
          decodeTokensPerSec: t.decodeTokensPerSec,
        },
        peakRssBytes,
      });
    } else {
      console.error(
        `[${result.tokenIds.length} tokens, ${result.finishReason}; prompt ${result.promptTokens} tokens ` +
          `(${result.imageTokens} image); load ${t.loadMs.toFixed(0)} ms, ttft ${
            t.ttftMs.toFixed(0)
          } ms, ` +
          `${t.decodeTokensPerSec.toFixed(1)} tok/s; peak RSS ${
            (peakRssBytes / 2 ** 20).toFixed(0)
          } MiB${q4Summary(q4Kernels)}]`,
      );
    }
    return 0;
  },
};
