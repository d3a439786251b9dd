// Property tests of the RoPE frequency table the decoder graph embeds.
import assert from "node:assert/strict";
import fc from "fast-check";
import { inverseFrequencies } from "../../src/build/layers/rope_frequencies.ts";

const plainSpec = fc.record({
  headDim: fc.integer({ min: 1, max: 128 }).map((h) => 2 * h),
  ropeTheta: fc.double({ min: 100, max: 1e7, noNaN: true }),
});
const scaling = fc.record({
  factor: fc.double({ min: 1, max: 64, noNaN: true }),
  lowFreqFactor: fc.double({ min: 0.5, max: 2, noNaN: true }),
  highFreqFactor: fc.double({ min: 2.5, max: 8, noNaN: true }),
  originalContextLength: fc.integer({ min: 256, max: 65536 }),
}).map((s) => ({ type: "llama3" as const, ...s }));

Deno.test("rope frequencies: plain RoPE is θ^(−2j/d), starting at 1 and strictly decreasing", () => {
  fc.assert(fc.property(plainSpec, (spec) => {
    const f = inverseFrequencies({ ...spec, ropeScaling: null });
    assert.equal(f.length, spec.headDim / 2);
    assert.equal(f[0], 1);
    for (let j = 1; j < f.length; j++) assert.ok(f[j] < f[j - 1]);
  }));
});

Deno.test("rope frequencies: llama3 scaling stays within [f/factor, f], keeps the fastest pair, never reorders", () => {
  fc.assert(fc.property(plainSpec, scaling, (spec, s) => {
    const plain = inverseFrequencies({ ...spec, ropeScaling: null });
    const scaled = inverseFrequencies({ ...spec, ropeScaling: s });
    for (let j = 0; j < plain.length; j++) {
      assert.ok(
        scaled[j] <= plain[j] * (1 + 1e-12) && scaled[j] >= (plain[j] / s.factor) * (1 - 1e-12),
      );
      if (j > 0) assert.ok(scaled[j] <= scaled[j - 1] * (1 + 1e-12));
      const period = (2 * Math.PI) / plain[j];
      if (period < s.originalContextLength / s.highFreqFactor) assert.equal(scaled[j], plain[j]);
      if (period > s.originalContextLength / s.lowFreqFactor) {
        assert.ok(Math.abs(scaled[j] - plain[j] / s.factor) <= 1e-15 * plain[j]);
      }
    }
  }));
});
