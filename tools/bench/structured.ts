/**
 * Cost of constrained decoding: time per generated token with and without
 * `responseFormat` on the shipped tiny model (the whole request path), and
 * the mask alone per step over a synthesized SmolVLM-256M vocabulary (49,280
 * ids), where a real model's step would take far longer than the mask.
 *
 * With `--full`, also a synthesized SmolVLM-256M (random weights, native
 * backend): `--full-requests` constrained requests over varied schemas, each
 * checked to parse and validate (zod's `z.fromJSONSchema`), and its time per
 * token with and without the constraint. Random weights never answer in JSON
 * by themselves: every valid document there is the constraint's doing.
 *
 * `deno run -A tools/bench/structured.ts [--requests N] [--full] [--full-requests N]` prints JSON.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { synthesize } from "../../src/build/synthesize.ts";
import { writeFolderAtomically } from "../cli/folder_writer.ts";
import { tokenizerJson } from "../../src/build/synthetic_tokenizer.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { compileJsonSchema } from "../../src/structured/json_schema.ts";
import { JsonAutomaton } from "../../src/structured/json_automaton.ts";
import { JsonConstraint } from "../../src/structured/json_constraint.ts";
import type { ResponseFormat } from "../../src/structured/response_format.ts";
import { vocabularyOf } from "../../src/structured/vocabulary.ts";
import { TextTokenizer } from "../../src/text/tokenizer.ts";
import { getPreset } from "../../variants/mod.ts";
import { median } from "../median.ts";

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

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "20" },
    full: { type: "boolean", default: false },
    "full-requests": { type: "string", default: "200" },
  },
});
const requests = Number(values.requests);

/** Varied schemas: objects, enums, arrays, numbers, nesting, optional fields, anyOf. */
const SCHEMAS: Record<string, unknown>[] = [
  SCHEMA,
  { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
  { enum: ["yes", "no", "maybe"] },
  { type: "array", items: { type: "integer" }, minItems: 1, maxItems: 5 },
  {
    type: "object",
    properties: {
      name: { type: "string", maxLength: 12 },
      age: { type: "integer" },
      email: { type: "string", maxLength: 20 },
    },
    required: ["name"],
    additionalProperties: false,
  },
  {
    type: "object",
    properties: {
      box: {
        type: "object",
        properties: { x: { type: "number" }, y: { type: "number" } },
        required: ["x", "y"],
        additionalProperties: false,
      },
      label: { const: "shape" },
    },
    required: ["box", "label"],
    additionalProperties: false,
  },
  { type: "array", items: { enum: ["a", "b"] }, maxItems: 4 },
  { anyOf: [{ type: "number" }, { type: "string", maxLength: 8 }, { type: "null" }] },
  {
    type: "object",
    properties: { items: { type: "array", items: { type: "string", maxLength: 5 }, maxItems: 3 } },
    required: ["items"],
  },
  { type: "number" },
];

/** SmolVLM-256M with random weights: every schema, checked; ms per token with and without. */
async function fullSizeModel(count: number) {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-structured-" });
  try {
    const built = synthesize(getPreset("smolvlm-256m-instruct"), { seed: 0 });
    await writeFolderAtomically(join(dir, "smolvlm-256m"), built.files, false);
    built.files.length = 0;
    const model = await loadModel(join(dir, "smolvlm-256m"), { backend: "native" });
    try {
      const perToken = (format?: ResponseFormat) => async (i: number) => {
        const started = performance.now();
        const result = await model.generate({
          prompt: `Describe item ${i} as JSON.`,
          maxNewTokens: 96,
          temperature: 1,
          seed: i,
          responseFormat: format,
          stopTokenIds: format ? undefined : [],
        });
        return { ms: (performance.now() - started) / result.tokenIds.length, result };
      };
      let valid = 0;
      let endedByEos = 0;
      const constrainedMs: number[] = [];
      const failures: string[] = [];
      for (let i = 0; i < count; i++) {
        const schema = SCHEMAS[i % SCHEMAS.length];
        const { ms, result } = await perToken({ type: "json_schema", schema })(i);
        constrainedMs.push(ms);
        if (result.finishReason === "eos") endedByEos++;
        const validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
        let ok = false;
        try {
          ok = validator.safeParse(JSON.parse(result.text)).success;
        } catch {
          ok = false;
        }
        if (ok) valid++;
        else if (failures.length < 5) failures.push(result.text);
      }
      const freeMs: number[] = [];
      for (let i = 0; i < Math.min(count, 20); i++) freeMs.push((await perToken()(i)).ms);
      return {
        requests: count,
        schemas: SCHEMAS.length,
        valid,
        endedByEos,
        failures,
        msPerTokenMedian: { free: median(freeMs), constrained: median(constrainedMs) },
      };
    } finally {
      await model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Median of the per-request ms per token. */

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
    ...(values.full ? { smolvlm256m: await fullSizeModel(Number(values["full-requests"])) } : {}),
  },
  null,
  2,
));
