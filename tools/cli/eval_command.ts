/**
 * `vlm eval --model DIR --data labels.jsonl [--backend wasm|native] [--json]`:
 * runs a model greedily over a labeled set and prints
 * `{count, exactMatch, perPrompt, charErrorRate, tokensPerSec}`.
 *
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { parseLabels, parsePredictions } from "../../src/eval/labels.ts";
import { agreement, evaluate } from "../../src/eval/evaluate.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import {
  optionalNumber,
  parseBackend,
  parseCommandArgs,
  parseDtype,
  requireString,
} from "./args.ts";
import { writeFileAtomically } from "./atomic_file.ts";
import { type Command, printJson } from "./command.ts";
import { MAX_PIXELS_HELP, MAX_PIXELS_OPTION, parseMaxPixels } from "./max_pixels.ts";

const usage = `Usage: vlm eval --model DIR --data labels.jsonl [options]

Answers every item of a labeled set greedily and scores the answers.
labels.jsonl lines: {"image": "a.png", "prompt": "...", "answer": "..."}
(image paths relative to the labels file).

Options:
  --model DIR            model folder (hf-idefics3 or modular)
  --data FILE            labels.jsonl (required)
  --backend B            wasm (default) or native
  --dtype D              ONNX file variant (default: detected from the files)
  --max-new-tokens N     limit per answer (default 32)
  --limit N              evaluate only the first N items
  --predictions FILE     write one JSON line per item {image, prompt, answer, prediction, exact, tokens}
  --reference FILE       another system's predictions (same line format); adds
                         {agreement, compared}: the fraction of shared items answered identically
${MAX_PIXELS_HELP}
  --json                 print {count, exactMatch, perPrompt:{PROMPT:{count, exactMatch,
                         charErrorRate}}, charErrorRate, tokensPerSec}
Answers are compared after trimming whitespace; charErrorRate = character edits (Levenshtein)
per answer character; tokensPerSec = generated tokens per second of generation time.`;

async function readText(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new VlmError(
      "input_invalid",
      `cannot read ${what} ${path}: ${(error as Error).message}`,
      {
        fix: `pass an existing ${what}`,
        cause: error,
      },
    );
  }
}

function jsonLines(items: readonly unknown[]): Uint8Array {
  return new TextEncoder().encode(items.map((item) => JSON.stringify(item)).join("\n") + "\n");
}

export const evalCommand: Command = {
  name: "eval",
  summary: "score a model on a labeled JSONL set (exact match, CER, tokens/s)",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("eval", args, {
      model: { type: "string" },
      data: { type: "string" },
      backend: { type: "string" },
      dtype: { type: "string" },
      "max-new-tokens": { type: "string" },
      limit: { type: "string" },
      predictions: { type: "string" },
      reference: { type: "string" },
      ...MAX_PIXELS_OPTION,
    });
    const modelDir = requireString("eval", parsed, "model");
    const data = requireString("eval", parsed, "data");
    const backend = parseBackend("eval", parsed);
    const dtype = parseDtype("eval", parsed);
    const maxNewTokens = optionalNumber("eval", parsed, "max-new-tokens", {
      min: 1,
      max: 4096,
      integer: true,
    });
    const limit = optionalNumber("eval", parsed, "limit", { min: 1, max: 1e9, integer: true });
    const maxPixels = parseMaxPixels("eval", parsed);
    let items = parseLabels(await readText(data, "labels file"), data);
    if (limit) items = items.slice(0, limit);
    const reference = typeof parsed.values.reference === "string"
      ? parsePredictions(
        await readText(parsed.values.reference, "reference file"),
        parsed.values.reference,
      )
      : undefined;

    const root = dirname(data);
    const model = await loadModel(modelDir, { backend, dtype, maxPixels });
    try {
      const { report, predictions } = await evaluate(model, items, {
        maxNewTokens,
        imageSource: (item) => isAbsolute(item.image) ? item.image : join(root, item.image),
        onItem: (_, done, total) => {
          if (done % 50 === 0 || done === total) console.error(`eval: ${done}/${total}`);
        },
      });
      if (typeof parsed.values.predictions === "string") {
        await writeFileAtomically(parsed.values.predictions, jsonLines(predictions));
      }
      const compared = reference ? agreement(predictions, reference) : undefined;
      if (parsed.values.json) printJson({ ...report, ...compared });
      else {
        console.log(
          `${report.count} items: ${(report.exactMatch * 100).toFixed(1)}% exact, CER ${
            (report.charErrorRate * 100).toFixed(2)
          }%, ${report.tokensPerSec.toFixed(1)} tokens/s`,
        );
        for (const [prompt, s] of Object.entries(report.perPrompt)) {
          console.log(
            `  ${prompt.padEnd(28)} ${String(s.count).padStart(5)}  ${
              (s.exactMatch * 100).toFixed(1)
            }%  CER ${(s.charErrorRate * 100).toFixed(2)}%`,
          );
        }
        if (compared) {
          console.log(
            `agreement with the reference: ${
              (compared.agreement * 100).toFixed(1)
            }% of ${compared.compared}`,
          );
        }
      }
    } finally {
      await model.dispose();
    }
    return 0;
  },
};
