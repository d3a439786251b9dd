/**
 * vlmkit's text-only figures for the side-by-side with llama.cpp: a prompt of
 * exactly `prompt` tokens (no image), then `tokens` greedy tokens with the
 * end-of-sequence ids disabled. Prints one JSON line.
 *
 *   deno run -A tools/bench/measure_vlmkit_text.ts --model DIR --dtype q4 \
 *     [--backend native] [--threads 2] [--prompt 512] [--tokens 128] [--runs 3]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadModel } from "../../src/runtime/load_model.ts";
import type { VlmModel } from "../../src/runtime/model.ts";
import type { Dtype } from "../../src/spec/types.ts";
import { median } from "../median.ts";

/** What one text-only configuration measured. */
export interface TextFigures {
  /** Prompt tokens of each request (chat template included). */
  promptTokens: number;
  /** Prompt tokens per second of the prefill pass. */
  prefillTokensPerSec: number;
  /** New tokens after the first per second. */
  decodeTokensPerSec: number;
  /** Tokens decoded per request. */
  decodedTokens: number;
}

/** One greedy text-only request from a fresh cache, the end-of-sequence ids disabled. */
export async function askText(model: VlmModel, text: string, maxNewTokens: number) {
  await model.clearCaches();
  return await model.generate({ prompt: text, maxNewTokens, stopTokenIds: [] });
}

/** A text whose prompt (chat template included) is exactly `target` tokens for `model`. */
export async function promptOfTokens(model: VlmModel, target: number): Promise<string> {
  const words = (n: number) => Array.from({ length: n }, (_, i) => "abcdefgh"[i % 8]).join("");
  // The template adds a fixed number of tokens: measure it once.
  const probe = await askText(model, words(target), 1);
  return words(target - (probe.promptTokens - target));
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string" },
      dtype: { type: "string", default: "fp32" },
      backend: { type: "string", default: "native" },
      threads: { type: "string", default: "2" },
      prompt: { type: "string", default: "512" },
      tokens: { type: "string", default: "128" },
      runs: { type: "string", default: "3" },
    },
  });
  if (!values.model) {
    console.error("usage: measure_vlmkit_text.ts --model DIR [options]");
    Deno.exit(2);
  }
  const target = Number(values.prompt);
  const tokens = Number(values.tokens);
  const model = await loadModel(values.model, {
    backend: values.backend === "wasm" ? "wasm" : "native",
    threads: Number(values.threads),
    dtype: values.dtype as Dtype,
  });
  const text = await promptOfTokens(model, target);
  const results = [];
  for (let i = 0; i < Number(values.runs); i++) results.push(await askText(model, text, tokens));
  if (results[0].promptTokens !== target) {
    throw new Error(`the prompt has ${results[0].promptTokens} tokens, not ${target}`);
  }
  await model.dispose();
  const figures: TextFigures = {
    promptTokens: results[0].promptTokens,
    prefillTokensPerSec: median(
      results.map((r) => r.promptTokens / (r.timings.prefillMs / 1000)),
    ),
    decodeTokensPerSec: median(results.map((r) => r.timings.decodeTokensPerSec)),
    decodedTokens: results[0].tokenIds.length,
  };
  console.log(JSON.stringify(figures));
}
