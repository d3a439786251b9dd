// Regressions: spec validation on hostile input gives typed errors.
import assert from "node:assert/strict";
import { parseSpec, validateSpec } from "../../src/spec/validate.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";

const BASE = JSON.parse(
  await Deno.readTextFile(new URL("../../variants/smolvlm-256m-instruct.json", import.meta.url)),
);

function nested(depth: number): unknown {
  let value: unknown = "x";
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const isSpecInvalid = (e: unknown) => e instanceof VlmError && e.code === "spec_invalid";

Deno.test("spec: a name that is an object with a toString key is a typed error", () => {
  for (
    const name of [{ toString: 1 }, { toString: "x", valueOf: 2 }, JSON.parse('{"__proto__":1}')]
  ) {
    assert.throws(() => parseSpec({ ...BASE, name }), isSpecInvalid);
    assert.throws(() => resolve({ ...BASE, name }), isSpecInvalid);
  }
});

Deno.test("spec: input nested thousands deep is refused before zod", () => {
  for (const input of [{ ...BASE, name: nested(3000) }, nested(100_000)]) {
    const result = validateSpec(input);
    assert.equal(result.valid, false);
    assert.match(result.issues[0].message, /nests deeper than/);
    assert.throws(() => resolve(input), isSpecInvalid);
  }
});

Deno.test("spec: a __proto__ key is data, reported rather than dropped", () => {
  const text = JSON.stringify(BASE).replace(
    '"modules":{',
    '"modules":{"__proto__":{"file":"x","dtype":"fp32"},',
  );
  assert.throws(
    () => resolve(JSON.parse(text)),
    (e) => isSpecInvalid(e) && /artifacts\.modules\.__proto__/.test((e as Error).message),
  );
});

Deno.test("spec: the shipped specs still validate", () => {
  assert.equal(validateSpec(BASE).valid, true);
});
