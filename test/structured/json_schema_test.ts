// The JSON schema subset: what compiles, and what is refused by name.
import assert from "node:assert/strict";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { compileJsonSchema } from "../../src/structured/json_schema.ts";
import { fits } from "../../src/structured/schema_node.ts";
import { responseFormatIssues } from "../../src/structured/response_format.ts";

function refusal(schema: unknown): VlmError {
  try {
    compileJsonSchema(schema);
  } catch (error) {
    assert.ok(error instanceof VlmError);
    assert.equal(error.code, "input_invalid");
    return error;
  }
  assert.fail(`${JSON.stringify(schema)} compiled`);
}

Deno.test("json schema: unsupported keywords are refused by name and path, never ignored", () => {
  for (
    const keyword of [
      "pattern",
      "format",
      "minimum",
      "oneOf",
      "allOf",
      "not",
      "prefixItems",
      "minLength",
    ]
  ) {
    const error = refusal({ type: "object", properties: { a: { type: "string", [keyword]: 1 } } });
    assert.equal(error.issues[0].path, `schema.properties.a.${keyword}`);
    assert.match(error.issues[0].message, new RegExp(`"${keyword}" is not supported`));
    assert.match(error.fix ?? "", new RegExp(`remove "${keyword}"`));
  }
  // Annotations only describe: they compile.
  compileJsonSchema({
    type: "string",
    title: "t",
    description: "d",
    default: "x",
    examples: ["y"],
  });
});

Deno.test("json schema: anyOf alternatives must differ in their first character", () => {
  const error = refusal({ anyOf: [{ type: "object" }, { type: "object", properties: {} }] });
  assert.match(error.message, /both start with "\{"/);
  // integer ∪ number and literals a type already covers merge instead.
  const node = compileJsonSchema({
    anyOf: [{ type: "integer" }, { type: "number" }, { const: 3 }],
  });
  assert.equal(node.kind, "number");
  const nullable = compileJsonSchema({ type: ["string", "null"], maxLength: 2 });
  assert.ok(fits(nullable, null) && fits(nullable, "ab") && !fits(nullable, "abc"));
});

Deno.test("json schema: enum/const are filtered by the schema's other keywords", () => {
  const node = compileJsonSchema({ type: "string", maxLength: 2, enum: ["ab", "abc", 1] });
  assert.ok(fits(node, "ab"));
  assert.ok(!fits(node, "abc") && !fits(node, 1));
  assert.match(refusal({ type: "integer", enum: ["a"] }).message, /no value of enum/);
});

Deno.test("json schema: local $ref resolves; recursion and other references are refused", () => {
  const node = compileJsonSchema({
    $defs: { p: { type: "integer" } },
    type: "array",
    items: { $ref: "#/$defs/p" },
  });
  assert.ok(fits(node, [1, 2]) && !fits(node, ["x"]));
  assert.match(
    refusal({ $defs: { n: { type: "array", items: { $ref: "#/$defs/n" } } }, $ref: "#/$defs/n" })
      .message,
    /recursive schemas are not supported/,
  );
  assert.match(refusal({ $ref: "https://example.com/s.json" }).message, /only references to/);
});

Deno.test("json schema: objects, required and additionalProperties", () => {
  const closed = compileJsonSchema({
    type: "object",
    properties: { a: { type: "string" }, b: { type: "boolean" } },
    required: ["a"],
    additionalProperties: false,
  });
  assert.ok(fits(closed, { a: "x" }) && fits(closed, { a: "x", b: true }));
  assert.ok(!fits(closed, { b: true }) && !fits(closed, { a: "x", c: 1 }));
  // additionalProperties absent means any other property.
  const open = compileJsonSchema({ type: "object", properties: { a: { type: "string" } } });
  assert.ok(fits(open, { a: "x", c: [1] }));
  assert.match(
    refusal({ type: "object", required: ["z"], additionalProperties: false }).message,
    /"z" is required but not in properties/,
  );
  assert.match(
    refusal({ type: "array", minItems: 3, maxItems: 1 }).message,
    /minItems 3 exceeds maxItems 1/,
  );
});

Deno.test("responseFormatIssues: the request field's own shape", () => {
  assert.deepEqual(responseFormatIssues({ type: "text" }), []);
  assert.deepEqual(responseFormatIssues({ type: "json_object" }), []);
  assert.equal(responseFormatIssues({ type: "json_schema" })[0].path, "responseFormat.schema");
  assert.equal(responseFormatIssues({ type: "yaml" })[0].path, "responseFormat.type");
  assert.equal(
    responseFormatIssues({ type: "json_schema", schema: { type: "date" } }, "response_format")[0]
      .path,
    "response_format.schema.type",
  );
});
