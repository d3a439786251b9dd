// Structured outputs through model.generate on the shipped tiny model, whose
// answers are nonsense as JSON: the constraint alone makes them parse and
// validate (checked with zod's reading of each schema).
import assert from "node:assert/strict";
import { z } from "zod";
import { loadModel } from "../../src/runtime/load_model.ts";
import type { VlmModel } from "../../src/runtime/model.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { responseFormatProcessor } from "../../src/structured/response_format.ts";

const SHIPPED = new URL("../../models/tiny-smolvlm/", import.meta.url);

const SCHEMAS: Record<string, unknown>[] = [
  {
    type: "object",
    properties: { color: { enum: ["red", "green", "blue"] }, count: { type: "integer" } },
    required: ["color", "count"],
    additionalProperties: false,
  },
  {
    type: "object",
    properties: { shape: { type: "string", maxLength: 8 }, note: { type: "string", maxLength: 4 } },
    required: ["shape"],
    additionalProperties: false,
  },
  { type: "array", items: { type: "number" }, minItems: 1, maxItems: 3 },
  {
    type: "object",
    properties: {
      box: {
        type: "object",
        properties: { x: { type: "integer" }, y: { type: "integer" } },
        required: ["x", "y"],
        additionalProperties: false,
      },
      ok: { type: "boolean" },
    },
    required: ["box"],
    additionalProperties: false,
  },
  {
    type: "object",
    properties: { tags: { type: "array", items: { enum: ["a", "b"] }, maxItems: 2 } },
    required: ["tags"],
  },
  {
    type: "object",
    properties: { value: { type: ["number", "null"] }, label: { const: "v1" } },
    required: ["value", "label"],
    additionalProperties: false,
  },
  { enum: ["yes", "no", 0, null] },
  {
    type: "object",
    properties: { id: { anyOf: [{ type: "integer" }, { type: "string", maxLength: 3 }] } },
    required: ["id"],
    additionalProperties: { type: "boolean" },
  },
  {
    type: "array",
    items: {
      type: "object",
      properties: { k: { type: "string", maxLength: 2 } },
      required: ["k"],
      additionalProperties: false,
    },
    minItems: 2,
    maxItems: 2,
  },
  {
    $defs: { point: { type: "array", items: { type: "number" }, minItems: 2, maxItems: 2 } },
    type: "object",
    properties: { from: { $ref: "#/$defs/point" }, to: { $ref: "#/$defs/point" } },
    required: ["from", "to"],
    additionalProperties: false,
  },
];

const PROMPTS = ["What shape is this?", "Describe the image.", "What colour is it?", "Count them."];

async function withModel(fn: (model: VlmModel) => Promise<void>) {
  const model = await loadModel(SHIPPED);
  try {
    await fn(model);
  } finally {
    await model.dispose();
  }
}

Deno.test("responseFormat json_schema: 200 requests on the tiny model all parse and validate", async () => {
  await withModel(async (model) => {
    let valid = 0;
    for (let i = 0; i < 200; i++) {
      const schema = SCHEMAS[i % SCHEMAS.length];
      const validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
      const result = await model.generate({
        prompt: PROMPTS[i % PROMPTS.length],
        maxNewTokens: 64,
        // Half greedy, half sampled with different seeds: varied paths through each schema.
        ...(i % 2 === 0 ? {} : { temperature: 1.5, seed: i }),
        responseFormat: { type: "json_schema", schema },
      });
      assert.equal(result.finishReason, "eos", `request ${i}: ${result.text}`);
      const parsed = validator.safeParse(JSON.parse(result.text));
      assert.ok(parsed.success, `request ${i}: ${result.text} fails ${JSON.stringify(schema)}`);
      valid++;
    }
    assert.equal(valid, 200);
  });
});

Deno.test("responseFormat: without it the tiny model's answers are not JSON", async () => {
  await withModel(async (model) => {
    for (const prompt of PROMPTS) {
      const { text } = await model.generate({ prompt, maxNewTokens: 24 });
      assert.throws(() => JSON.parse(text), SyntaxError, text);
    }
  });
});

Deno.test("responseFormat json_object: an object, whatever the model prefers", async () => {
  await withModel(async (model) => {
    for (const seed of [1, 2, 3]) {
      const result = await model.generate({
        prompt: "What shape is this?",
        maxNewTokens: 40,
        temperature: 1,
        seed,
        responseFormat: { type: "json_object" },
      });
      assert.equal(result.finishReason, "eos");
      const value = JSON.parse(result.text);
      assert.equal(typeof value, "object");
      assert.ok(value !== null && !Array.isArray(value), result.text);
    }
  });
});

Deno.test("responseFormat: a limit too small for the document ends with max_tokens", async () => {
  await withModel(async (model) => {
    const schema = SCHEMAS[0]; // needs at least {"color":"red","count":0}
    const result = await model.generate({
      prompt: "What shape is this?",
      maxNewTokens: 6,
      responseFormat: { type: "json_schema", schema },
    });
    assert.equal(result.finishReason, "max_tokens");
    assert.equal(result.tokenIds.length, 6);
    assert.throws(() => JSON.parse(result.text));
    assert.ok(result.text.startsWith('{"'), result.text);
  });
});

Deno.test("responseFormat: unsupported keywords are refused by name before generating", async () => {
  await withModel(async (model) => {
    const schema = {
      type: "object",
      properties: {
        name: { type: "string", pattern: "^[a-z]+$" },
        n: { type: "number", minimum: 0 },
      },
    };
    const error = await model.generate({
      prompt: "hi",
      maxNewTokens: 8,
      responseFormat: { type: "json_schema", schema },
    }).then(() => undefined, (e) => e);
    assert.ok(error instanceof VlmError);
    assert.equal(error.code, "input_invalid");
    assert.deepEqual(error.issues.map((i) => i.path), [
      "responseFormat.schema.properties.name.pattern",
      "responseFormat.schema.properties.n.minimum",
    ]);
    assert.match(error.message, /"pattern" is not supported/);
    assert.match(error.fix ?? "", /remove "pattern"/);
    const bad = await model.generate({
      prompt: "hi",
      maxNewTokens: 8,
      // deno-lint-ignore no-explicit-any
      responseFormat: { type: "xml" } as any,
    }).then(() => undefined, (e) => e);
    assert.ok(bad instanceof VlmError && bad.issues[0].path === "responseFormat.type");
  });
});

Deno.test("responseFormatProcessor: the same constraint as a plain logits processor, told the limit", async () => {
  await withModel(async (model) => {
    const schema = SCHEMAS[1];
    const result = await model.generate({
      prompt: "Describe the image.",
      maxNewTokens: 40,
      logitsProcessors: [
        responseFormatProcessor(model, { type: "json_schema", schema }, { maxNewTokens: 40 }),
      ],
    });
    assert.equal(result.finishReason, "eos", result.text);
    const value = JSON.parse(result.text);
    assert.equal(typeof value.shape, "string");
    assert.ok(value.shape.length <= 8);
  });
});
