// The uint8 and bnb4 weight layouts: property tests of their packing and error bounds.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BNB4_BLOCK,
  BNB4_CODES,
  dequantizeBnb4,
  quantizeBnb4,
  quantizeUint8,
} from "../../src/build/quantize.ts";
import { weightMatrix } from "./_harness.ts";

const matrix = weightMatrix(150, 7);

Deno.test("quantizeUint8: per column, (q − zero) · scale is within half a step and 0 is exact", () => {
  fc.assert(fc.property(matrix, (tensor) => {
    const [rows, cols] = tensor.dims;
    const q = quantizeUint8(tensor);
    assert.equal(q.scales.length, cols);
    for (let c = 0; c < cols; c++) {
      // Zero maps to the zero point exactly: (zero − zero) · scale = 0.
      assert.ok(Number.isInteger(q.zeroPoints[c]) && q.zeroPoints[c] <= 255);
      for (let r = 0; r < rows; r++) {
        const i = r * cols + c;
        const back = (q.values[i] - q.zeroPoints[c]) * q.scales[c];
        assert.ok(
          Math.abs(back - tensor.data[i]) <= q.scales[c] * 0.5 + 1e-6 * Math.abs(tensor.data[i]),
          `(${r}, ${c}): ${back} vs ${tensor.data[i]}`,
        );
      }
    }
  }));
});

// Half the widest gap between neighbouring NF4 values (−1 and −0.696): the worst rounding.
const NF4_SORTED = [...BNB4_CODES.nf4].sort((a, b) => a - b);
const NF4_HALF_GAP = Math.max(...NF4_SORTED.slice(1).map((v, i) => v - NF4_SORTED[i])) / 2;

Deno.test("quantizeBnb4: blocks of 64 over the transposed weight, absmax per block, nearest NF4 code", () => {
  fc.assert(fc.property(matrix, (tensor) => {
    const [k, n] = tensor.dims;
    const q = quantizeBnb4(tensor);
    assert.equal(q.absmax.length, Math.ceil((k * n) / BNB4_BLOCK));
    assert.equal(q.packed.length, Math.ceil((k * n) / 2));
    const back = dequantizeBnb4(q);
    for (let i = 0; i < k * n; i++) {
      // Element i of the transposed [N, K] weight is W[i % K, i / K].
      const row = i % k;
      const col = Math.floor(i / k);
      const absmax = q.absmax[Math.floor(i / BNB4_BLOCK)];
      const x = tensor.data[row * n + col];
      assert.ok(Math.abs(x) <= absmax * (1 + 1e-6));
      const code = (i & 1) ? q.packed[i >> 1] & 15 : q.packed[i >> 1] >> 4;
      // No other code is nearer (the quantizer's decision thresholds are the midpoints).
      const err = Math.abs(BNB4_CODES.nf4[code] - x / absmax);
      for (const v of BNB4_CODES.nf4) assert.ok(err <= Math.abs(v - x / absmax) + 1e-6);
      assert.ok(Math.abs(back[row * n + col] - x) <= NF4_HALF_GAP * absmax * (1 + 1e-5) + 1e-9);
    }
  }));
});
