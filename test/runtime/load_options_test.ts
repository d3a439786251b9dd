// loadModel refuses unknown option names and bad values before it reads anything, and names
// every problem at once with the values it would accept.
import assert from "node:assert/strict";
import fc from "fast-check";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import { loadModel, type LoadModelOptions } from "../../src/runtime/load_model.ts";
import { checkLoadOptions } from "../../src/runtime/load_options.ts";

// A folder that does not exist: validation must fail first, not the read.
const NOWHERE = "/nonexistent/vlmkit-model";

function usage(pattern: RegExp, fix?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof VlmError, String(e));
    assert.equal(e.code, "usage");
    assert.match(e.message, pattern);
    if (fix) assert.match(e.fix ?? "", fix);
    return true;
  };
}

Deno.test("load options: a bad backend names the allowed ones", async () => {
  await assert.rejects(
    loadModel(NOWHERE, { backend: "gpu" } as unknown as LoadModelOptions),
    usage(/backend must be one of "wasm", "native", got "gpu"/, /"wasm", "native"/),
  );
});

Deno.test("load options: unknown names are refused, with the list of options", async () => {
  await assert.rejects(
    loadModel(NOWHERE, { backnd: "wasm" } as unknown as LoadModelOptions),
    usage(/unknown option "backnd"/, /backend, threads, dtype/),
  );
});

Deno.test("load options: every problem is reported in one error", async () => {
  await assert.rejects(
    loadModel(NOWHERE, {
      dtype: "q3",
      threads: 1.5,
      maxPixels: -1,
      featureCacheSize: -2,
      reusePrefix: "yes",
      signal: "stop",
      plugins: {},
      q4Kernel: "fast",
    } as unknown as LoadModelOptions),
    (e: unknown) => {
      assert.ok(e instanceof VlmError);
      for (
        const name of [
          /dtype must be one of "fp32".*"bnb4", got "q3"/,
          /threads must be an integer ≥ 1, got 1.5/,
          /maxPixels must be an integer ≥ 1, got -1/,
          /featureCacheSize must be an integer ≥ 0, got -2/,
          /reusePrefix must be true or false/,
          /signal must be an AbortSignal/,
          /plugins must be an array/,
          /q4Kernel must be one of "auto", "int8", "original", got "fast"/,
        ]
      ) assert.match(e.message, name);
      return true;
    },
  );
});

Deno.test("load options: per-module dtypes are checked by module and by value", () => {
  assert.throws(
    () => checkLoadOptions({ dtype: { decoder_model_merged: "q4", vision: "fp16" } }),
    usage(/unknown module "vision"/, /vision_encoder/),
  );
  assert.throws(
    () => checkLoadOptions({ dtype: { embed_tokens: "int3" } }),
    usage(/dtype\.embed_tokens must be one of/),
  );
  assert.throws(() => checkLoadOptions("wasm"), usage(/options must be an object/));
  checkLoadOptions({ dtype: { decoder_model_merged: "q4", embed_tokens: "fp16" } });
});

Deno.test("load options: every valid combination passes, any unknown name fails", () => {
  const valid = fc.record({
    backend: fc.constantFrom("wasm", "native", undefined),
    threads: fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
    dtype: fc.constantFrom("fp32", "fp16", "int8", "uint8", "q8", "q4", "q4f16", "bnb4"),
    maxPixels: fc.option(fc.integer({ min: 1 }), { nil: undefined }),
    featureCacheSize: fc.option(fc.nat(), { nil: undefined }),
    reusePrefix: fc.option(fc.boolean(), { nil: undefined }),
    q4Kernel: fc.constantFrom("auto", "int8", "original", undefined),
  }, { requiredKeys: [] });
  fc.assert(fc.property(valid, (options) => checkLoadOptions(options)));
  const known = new Set([
    "backend",
    "threads",
    "dtype",
    "maxPixels",
    "featureCacheSize",
    "reusePrefix",
    "signal",
    "plugins",
    "q4Kernel",
  ]);
  fc.assert(
    fc.property(
      fc.string({ minLength: 1 }).filter((k) => !known.has(k) && k !== "__proto__"),
      (key) => {
        assert.throws(() => checkLoadOptions({ [key]: 1 }), usage(/unknown option/));
      },
    ),
  );
});

Deno.test("load options: loadBackend shares the check and takes only its own options", async () => {
  await assert.rejects(
    loadBackend({ backend: "cuda" } as never),
    usage(/loadBackend: backend must be one of/),
  );
  await assert.rejects(
    loadBackend({ dtype: "q4" } as never),
    usage(/unknown option "dtype"/, /backend, threads/),
  );
});

Deno.test("load options: a bad kvCache names the allowed ones", async () => {
  await assert.rejects(
    loadModel(NOWHERE, { kvCache: "shared" } as unknown as LoadModelOptions),
    usage(/kvCache must be one of "auto", "copy", got "shared"/, /"auto", "copy"/),
  );
});
