// OpenAI's logit_bias and presence/frequency penalties as logits processors.
import assert from "node:assert/strict";
import fc from "fast-check";
import { logitBias, penalties } from "../../src/server/openai_penalties.ts";

Deno.test("penalties: logit[j] -= count*frequency + presence for generated ids only (property)", () => {
  fc.assert(fc.property(
    fc.array(fc.nat(9), { maxLength: 20 }),
    fc.float({ min: -2, max: 2, noNaN: true }),
    fc.float({ min: -2, max: 2, noNaN: true }),
    (generated, presence, frequency) => {
      const logits = new Float32Array(10).fill(1);
      penalties(presence, frequency)?.(logits, generated);
      for (let id = 0; id < 10; id++) {
        const count = generated.filter((g) => g === id).length;
        const expected = count === 0 ? 1 : 1 - count * frequency - presence;
        assert.ok(Math.abs(logits[id] - Math.fround(expected)) < 1e-5, `${id}`);
      }
    },
  ));
  assert.equal(penalties(0, 0), undefined);
});

Deno.test("logit_bias: adds to listed ids, -100 bans, ids past the vocabulary are ignored", () => {
  const logits = Float32Array.from([1, 2, 3]);
  logitBias({ "0": 5, "1": -100, "7": 100 })(logits, []);
  assert.deepEqual([...logits], [6, -Infinity, 3]);
});
