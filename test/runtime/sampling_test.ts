import assert from "node:assert/strict";
import fc from "fast-check";
import {
  applyRepetitionPenalty,
  applyTopK,
  applyTopP,
  softmax,
} from "../../src/runtime/logits_processors.ts";
import { argmax, drawIndex, Sampler } from "../../src/runtime/sampler.ts";
import { seededRandom } from "../../src/runtime/rng.ts";

const logitsArb = fc.array(fc.float({ min: -20, max: 20, noNaN: true }), {
  minLength: 1,
  maxLength: 40,
}).map((values) => Float32Array.from(values));

Deno.test("property: argmax returns the first index of the maximum", () => {
  fc.assert(fc.property(logitsArb, (logits) => {
    const i = argmax(logits);
    const max = Math.max(...logits);
    assert.equal(logits[i], max);
    assert.equal(i, logits.indexOf(max));
  }));
});

Deno.test("property: top-k keeps exactly the values ≥ the k-th largest", () => {
  fc.assert(fc.property(logitsArb, fc.integer({ min: 1, max: 45 }), (logits, k) => {
    const original = Float32Array.from(logits);
    applyTopK(logits, k);
    const kept = [...logits].filter((v) => v !== -Infinity).length;
    const sorted = [...original].sort((a, b) => b - a);
    const threshold = sorted[Math.min(k, sorted.length) - 1];
    assert.equal(kept, sorted.filter((v) => v >= threshold).length);
    logits.forEach((v, i) => assert.ok(v === -Infinity || v === original[i]));
  }));
});

Deno.test("property: top-p keeps the smallest most-likely set reaching p", () => {
  fc.assert(
    fc.property(logitsArb, fc.double({ min: 0.01, max: 0.99, noNaN: true }), (logits, p) => {
      const probs = softmax(logits);
      applyTopP(logits, p);
      const keptMass = [...logits.keys()].filter((i) => logits[i] !== -Infinity)
        .reduce((s, i) => s + probs[i], 0);
      const keptCount = [...logits].filter((v) => v !== -Infinity).length;
      assert.ok(keptCount >= 1);
      assert.ok(keptMass >= p - 1e-9, `mass ${keptMass} < ${p}`);
      // Minimal: dropping the least likely kept token would fall below p.
      const keptProbs = [...logits.keys()].filter((i) => logits[i] !== -Infinity).map((i) =>
        probs[i]
      );
      if (keptCount > 1) assert.ok(keptMass - Math.min(...keptProbs) < p + 1e-9);
    }),
  );
});

Deno.test("repetition penalty divides positive and multiplies negative logits of seen ids", () => {
  const logits = Float32Array.from([2, -2, 3, 0.5]);
  applyRepetitionPenalty(logits, [0, 1, 1], 2);
  assert.deepEqual([...logits], [1, -4, 3, 0.5]);
});

Deno.test("property: drawIndex never returns a zero-probability index", () => {
  fc.assert(
    fc.property(logitsArb, fc.double({ min: 0, max: 0.999999, noNaN: true }), (logits, u) => {
      applyTopK(logits, 3);
      const probs = softmax(logits);
      assert.ok(probs[drawIndex(probs, u)] > 0);
    }),
  );
});

Deno.test("seeded sampling repeats exactly and differs across seeds", () => {
  const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i) * 2);
  const draw = (seed: number) => {
    const sampler = new Sampler({ temperature: 1, seed });
    return Array.from({ length: 20 }, () => sampler.next(Float32Array.from(logits), []));
  };
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
});

Deno.test("temperature sampling follows the softmax distribution (chi-square)", () => {
  const logits = Float32Array.from([0, 1, 2]);
  const probs = softmax(logits);
  const sampler = new Sampler({ temperature: 1, seed: 3 });
  const counts = [0, 0, 0];
  const n = 6000;
  for (let i = 0; i < n; i++) counts[sampler.next(Float32Array.from(logits), [])]++;
  const chi = counts.reduce((s, c, i) => s + (c - n * probs[i]) ** 2 / (n * probs[i]), 0);
  assert.ok(chi < 13.8, `chi-square ${chi} (p < 0.001 critical value for 2 dof is 13.8)`);
});

Deno.test("greedy sampler ignores the seed; invalid options are rejected", () => {
  const logits = Float32Array.from([1, 5, 5, 2]);
  assert.equal(new Sampler({ seed: 1 }).next(Float32Array.from(logits), []), 1);
  assert.throws(() => new Sampler({ topP: 0 }), RangeError);
  assert.throws(() => new Sampler({ temperature: -1 }), RangeError);
  assert.throws(() => new Sampler({ topK: 1.5 }), RangeError);
});

Deno.test("seededRandom yields values in [0, 1)", () => {
  const random = seededRandom(42);
  for (let i = 0; i < 1000; i++) {
    const v = random();
    assert.ok(v >= 0 && v < 1);
  }
});
