// The safetensors header codec: what is encoded parses back to the same
// entries, and every malformed file is refused with a model_invalid error
// naming the file and, where there is one, the tensor.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeSafetensors,
  headerLength,
  parseHeader,
  SAFETENSORS_DTYPES,
  type SafetensorsDtype,
} from "../../../src/build/checkpoint/safetensors_header.ts";
import { VlmError } from "../../../src/errors/vlm_error.ts";

const FILE = "/ckpt/model.safetensors";

function parseFile(bytes: Uint8Array, size = bytes.length) {
  const length = headerLength(bytes.subarray(0, 8), size, FILE);
  return parseHeader(bytes.subarray(8, 8 + length), size, FILE);
}

const tensorArb = fc.record({
  name: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== "__metadata__"),
  dtype: fc.constantFrom(...(Object.keys(SAFETENSORS_DTYPES) as SafetensorsDtype[])),
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
});

Deno.test("encoded headers parse back to the same entries, laid out back to back", () => {
  fc.assert(
    fc.property(fc.uniqueArray(tensorArb, { selector: (t) => t.name, maxLength: 6 }), (specs) => {
      const tensors = specs.map((t) => ({
        ...t,
        bytes: new Uint8Array(t.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPES[t.dtype]),
      }));
      const file = encodeSafetensors(tensors, { format: "pt" });
      const header = parseFile(file);
      assert.equal(header.dataStart % 8, 0);
      assert.deepEqual(header.metadata, { format: "pt" });
      let offset = 0;
      for (const t of tensors) {
        const entry = header.entries.get(t.name)!;
        assert.deepEqual([entry.dtype, entry.shape, entry.begin], [t.dtype, t.shape, offset]);
        offset = entry.end;
      }
      assert.equal(header.dataStart + offset, file.length);
    }),
    { numRuns: 300 },
  );
});

function headerBytes(header: unknown, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function refused(bytes: Uint8Array, words: RegExp, size = bytes.length) {
  assert.throws(() => parseFile(bytes, size), (error: unknown) => {
    assert.ok(error instanceof VlmError, String(error));
    assert.equal(error.code, "model_invalid");
    assert.ok(error.message.includes(FILE), error.message);
    assert.match(error.message, words);
    assert.ok(error.fix);
    return true;
  });
}

const ok = { dtype: "F32", shape: [2, 2], data_offsets: [0, 16] };

Deno.test("a file shorter than the length prefix is truncated", () => {
  refused(new Uint8Array(5), /truncated/);
});

Deno.test("a header length past the end of the file is refused", () => {
  const bytes = headerBytes({ w: ok }, 16);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length), true);
  refused(bytes, /header length \d+ runs past the end/);
});

Deno.test("an unknown dtype names the tensor", () => {
  refused(
    headerBytes({ "a.weight": { ...ok, dtype: "I64", data_offsets: [0, 32] } }, 32),
    /tensor a\.weight: dtype "I64"/,
  );
});

Deno.test("offsets that disagree with shape × dtype name the tensor", () => {
  refused(
    headerBytes({ "a.weight": { ...ok, data_offsets: [0, 12] } }, 16),
    /tensor a\.weight: .*needs 16/,
  );
});

Deno.test("data claimed beyond the file (a truncated file) names the tensor", () => {
  const bytes = headerBytes({ "a.weight": ok }, 16);
  refused(
    bytes.subarray(0, bytes.length - 4),
    /tensor a\.weight: data ends at byte \d+, past the end.*truncated/,
  );
});

Deno.test("overlapping tensors are refused", () => {
  refused(
    headerBytes({ a: ok, b: { ...ok, data_offsets: [8, 24] } }, 24),
    /tensor b: data \[8, 24\] overlaps a/,
  );
});

Deno.test("a header that is not JSON is refused", () => {
  const bytes = headerBytes({ a: ok }, 16);
  bytes[8] = 0x7b + 1;
  refused(bytes, /not valid JSON/);
});
