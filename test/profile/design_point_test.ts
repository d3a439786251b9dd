// Static design-point facts and the chart writer.
import assert from "node:assert/strict";
import fc from "fast-check";
import { designFacts, extrapolateLayers } from "../../src/profile/design_point.ts";
import { renderScatter } from "../../src/profile/svg_chart.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { scaledSpec } from "../../src/build/test_scale.ts";
import { getPreset } from "../../variants/mod.ts";

Deno.test("profile: SmolVLM-256M facts come from the Plan (params, 13 tiles for a 4:3 photo, KV at 8k)", () => {
  const facts = designFacts(resolve(getPreset("smolvlm-256m-instruct")));
  assert.equal(facts.params.total, 256_484_928);
  assert.deepEqual(facts.images.photo43, { tiles: 13, tokens: 832 });
  assert.deepEqual(facts.images.square512, { tiles: 17, tokens: 1088 }); // upscaled to 2048, 4×4 + global
  // 30 layers × 2 (K, V) × 3 KV heads × 64 × 4 bytes × 8192 tokens
  assert.equal(facts.kvBytesAt8k, 30 * 2 * 3 * 64 * 4 * 8192);
  // q4 keeps the embedding table in float, so for small decoders int8 is the smaller file.
  assert.ok(
    facts.weightBytes.q4 < facts.weightBytes.fp32 && facts.weightBytes.int8 < facts.weightBytes.q4,
  );
  // An 8k fp32 cache alone is 377 MB: with the q4 weights it exceeds even 512 MB.
  assert.equal(facts.kvBytesAt8k, 377_487_360);
  assert.deepEqual(facts.fitsEdge, { "128MB": false, "256MB": false, "512MB": false });
  // A tiny model still carries the runtime (~300 MiB through the edge bundle): 512 MB only.
  const small = designFacts(resolve(scaledSpec(getPreset("mobilevlm-1.7b"), "test")));
  assert.deepEqual(small.fitsEdge, { "128MB": false, "256MB": false, "512MB": true });
  assert.equal(small.edgeEstimate.kind, "estimate");
});

Deno.test("profile: linear depth extrapolation reproduces any affine cost", () => {
  fc.assert(fc.property(
    fc.double({ min: 0, max: 1e4, noNaN: true }),
    fc.double({ min: 0, max: 1e3, noNaN: true }),
    fc.integer({ min: 1, max: 64 }),
    (fixed, perLayer, layers) => {
      const cost = (l: number) => fixed + perLayer * l;
      const estimate = extrapolateLayers(
        { low: 1, high: 3, lowCost: cost(1), highCost: cost(3) },
        layers,
      );
      assert.ok(Math.abs(estimate - cost(layers)) <= 1e-9 * (1 + cost(layers)));
    },
  ));
});

Deno.test("profile: scatter charts are standalone SVG with one marker per point and escaped labels", () => {
  const svg = renderScatter({
    title: "a < b",
    xLabel: "x",
    yLabel: "y",
    logX: true,
    points: [{ x: 1e6, y: 3, label: "p&1" }, { x: 1e9, y: 5, label: "p2", hollow: true }],
    lines: [{ y: 4, label: "limit" }],
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<circle /g) ?? []).length, 2);
  assert.ok(svg.includes("a &lt; b") && svg.includes("p&amp;1"));
  assert.ok(svg.includes('fill="white" stroke="#2563eb"'));
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  // Two points at almost the same place get labels on different lines.
  const close = renderScatter({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    points: [{ x: 1, y: 1, label: "a" }, { x: 1.001, y: 1.001, label: "b" }, {
      x: 9,
      y: 9,
      label: "c",
    }],
  });
  const ys = [...close.matchAll(/<text x="[\d.]+" y="([\d.]+)" fill="#333">/g)].map((m) =>
    Number(m[1])
  );
  assert.equal(ys.length, 3);
  assert.ok(Math.abs(ys[0] - ys[1]) >= 12, `labels at ${ys[0]} and ${ys[1]} overlap`);
});
