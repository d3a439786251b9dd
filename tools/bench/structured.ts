/**
 * Cost of constrained decoding: time per generated token with and without
 * `responseFormat` on the shipped tiny model (the whole request path), and
 * the mask alone per step over a synthesized SmolVLM-256M vocabulary (49,280
 * ids), where a real model's step would take far longer than the mask.
 *
 * `deno run -A tools/bench/structured.ts [--requests N]` prints JSON.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tokenizerJson } from "../../src/build/synthetic_tokenizer.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { compileJsonSchema } from "../../src/structured/json_schema.ts";
import { JsonAutomaton } from "../../src/structured/json_automaton.ts";
import { JsonConstraint } from "../../src/structured/json_constraint.ts";
import type { ResponseFormat } from "../../src/structured/response_format.ts";
import { vocabularyOf } from "../../src/structured/vocabulary.ts";
import { TextTokenizer } from "../../src/text/tokenizer.ts";
import { getPreset } from "../../variants/mod.ts";

const SCHEMA = {
  type: "object",
  properties: {
    color: { enum: ["red", "green", "blue"] },
    count: { type: "integer" },
    note: { type: "string", maxLength: 24 },
    box: { type: "array", items: { type: "number" }, minItems: 2, maxItems: 4 },
  },
  required: ["color", "count", "note", "box"],
  additionalProperties: false,
};

const { values } = parseArgs({ options: { requests: { type: "string", default: "20" } } });
const requests = Number(values.requests);

/** Median of the per-request ms per token. */
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function tinyModel() {
  const model = await loadModel(new URL("../../models/tiny-smolvlm/", import.meta.url));
  const run = async (responseFormat?: ResponseFormat) => {
    const perToken: number[] = [];
    let tokens = 0;
    let ended = 0;
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      const result = await model.generate({
        prompt: "What colour is it?",
        maxNewTokens: 48,
        stopTokenIds: responseFormat ? undefined : [], // unconstrained: always the full 48
        temperature: 1,
        seed: i,
        responseFormat,
      });
      // The whole request (prefill included) per generated token.
      perToken.push((performance.now() - started) / result.tokenIds.length);
      tokens += result.tokenIds.length;
      if (result.finishReason === "eos") ended++;
    }
    return {
      msPerTokenMedian: median(perToken),
      tokensPerRequest: tokens / requests,
      endedByEos: ended,
    };
  };
  await run(); // warm up
  const free = await run();
  const constrained = await run({ type: "json_schema", schema: SCHEMA });
  await model.dispose();
  return { free, constrained };
}

function maskOnly(tokenizer: TextTokenizer, eos: number) {
  const started = performance.now();
  const vocabulary = vocabularyOf(tokenizer);
  const indexMs = performance.now() - started;
  const automaton = new JsonAutomaton(compileJsonSchema(SCHEMA));
  const logits = new Float32Array(vocabulary.size);
  const stepMs: number[] = [];
  for (let i = 0; i < requests; i++) {
    const constraint = new JsonConstraint(automaton, vocabulary, {
      stopIds: [eos],
      maxNewTokens: 64,
    });
    const generated: number[] = [];
    let seed = i + 1;
    for (let step = 0; step < 64; step++) {
      for (let j = 0; j < logits.length; j++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        logits[j] = seed / 2 ** 32;
      }
      const t = performance.now();
      constraint.processor(logits, generated);
      stepMs.push(performance.now() - t);
      let best = 0;
      for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
      generated.push(best);
      if (best === eos) break;
    }
  }
  return {
    vocabulary: vocabulary.size,
    indexMs,
    maskMsPerStepMedian: median(stepMs),
    maskMsPerStepMax: Math.max(...stepMs),
  };
}

const spec = getPreset("smolvlm-256m-instruct");
console.log(JSON.stringify(
  {
    tinyModel: await tinyModel(),
    smolvlm256mVocabulary: maskOnly(new TextTokenizer(tokenizerJson(spec)), spec.tokens.eosIds[0]),
  },
  null,
  2,
));
