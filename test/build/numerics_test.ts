// Every layer builder against the independent float64 reference in
// test/build/reference/ (written from the equations, not from the graphs), on
// the same seeded weights, through real ONNX Runtime sessions.
//
// Tolerance (fp32 graphs): |graph − reference| ≤ 1e-4 + 1e-3·|reference|;
// for logits (std ≈ 4 by construction, up to 128k of them) the absolute part
// is LOGIT_ATOL = 2e-3, i.e. 5e-4 of their scale.
import assert from "node:assert/strict";
import {
  encoderGraph,
  hfVisionEncoderGraph,
  languageGraphs,
  projectorGraph,
} from "../../src/build/module_graphs.ts";
import { resolve } from "../../src/spec/resolve.ts";
import type { VariantSpec } from "../../src/spec/types.ts";
import { refEmbed, refLlamaLogits, refLlamaLogitsWithMask } from "./reference/llama.ts";
import { refPixelShuffle, refProjector } from "./reference/projectors.ts";
import { refVisionFeatures } from "./reference/vision.ts";
import {
  assertClose,
  boolTensor,
  floats,
  floatTensor,
  intTensor,
  isClose,
  pseudoRandom,
  runGraph,
  tinySpec,
} from "./_harness.ts";

// Every position's logits, so the whole prefill is checked against the reference.
const SETTINGS = { seed: 11, format: "fp32" as const, logits: "all" as const };
const LOGIT_ATOL = 2e-3;

/** Tiny versions of each encoder/projector family the presets use. */
const VISION_CASES: Record<string, VariantSpec> = {
  "siglip + pixel shuffle r=2 (SmolVLM)": tinySpec(
    "smolvlm-256m-instruct",
    { imageSize: 16, patchSize: 4 },
    { tileSize: 16, longestEdge: 32, maxTiles: 5 },
    { kind: "pixel-shuffle-linear", scaleFactor: 2 },
  ),
  "siglip with dropped remainder pixels, r=2 (SmolVLM 2.2B geometry)": tinySpec(
    "smolvlm-instruct",
    { imageSize: 18, patchSize: 4, remainderPixels: "dropped" },
    { tileSize: 18, longestEdge: 36, maxTiles: 5 },
    { kind: "pixel-shuffle-linear", scaleFactor: 2 },
  ),
  "clip penultimate + LDP (MobileVLM)": tinySpec(
    "mobilevlm-1.7b",
    { imageSize: 16, patchSize: 4, layers: 3 },
    { tileSize: 16, longestEdge: 16 },
  ),
  "clip penultimate + LDPv2 (MobileVLM V2)": tinySpec(
    "mobilevlm-v2-1.7b",
    { imageSize: 16, patchSize: 4, layers: 3 },
    { tileSize: 16, longestEdge: 16 },
  ),
  "clip last + post-LN + MLP projector": tinySpec(
    "mobilevlm-1.7b",
    { imageSize: 16, patchSize: 4, layers: 2, featureLayer: "last", postLayerNorm: true },
    { tileSize: 16, longestEdge: 16 },
    { kind: "mlp", layers: 2, activation: "gelu" },
  ),
};

for (const [name, spec] of Object.entries(VISION_CASES)) {
  Deno.test(`numerics: encoder and projector, ${name}`, async () => {
    const plan = resolve(spec);
    const tiles = 3;
    const T = spec.image.tileSize;
    const pixels = pseudoRandom(tiles * 3 * T * T, 5);
    const encoder = encoderGraph(plan, SETTINGS);
    const features = floats(
      (await runGraph(encoder.graph, { pixel_values: await floatTensor(pixels, [tiles, 3, T, T]) }))
        .features,
    );
    const expectedFeatures = refVisionFeatures(spec.encoder, encoder.weights, pixels, tiles);
    assertClose(features, expectedFeatures, "encoder features");

    const projector = projectorGraph(plan, SETTINGS);
    const P = plan.encoder.patchesPerTile;
    const D = plan.encoder.featureDim;
    const projected = floats(
      (await runGraph(projector.graph, {
        features: await floatTensor(expectedFeatures, [tiles, P, D]),
      })).image_features,
    );
    const side = plan.encoder.patchGridSide;
    const expected = refProjector(
      spec.projector,
      projector.weights,
      expectedFeatures,
      tiles,
      side,
      D,
      spec.decoder.hidden,
    );
    assert.equal(projected.length, tiles * plan.tokensPerTile * spec.decoder.hidden);
    assertClose(projected, expected, "projected features");
  });
}

Deno.test("numerics: hf vision_encoder = encoder then connector, with a padded image masked out", async () => {
  const spec = VISION_CASES["siglip + pixel shuffle r=2 (SmolVLM)"];
  const plan = resolve({ ...spec, artifacts: { ...spec.artifacts, layout: "hf-idefics3" } });
  const T = spec.image.tileSize;
  const images = 2;
  const pixels = pseudoRandom(images * 3 * T * T, 9);
  const fused = hfVisionEncoderGraph(plan, SETTINGS);
  const out = floats(
    (await runGraph(fused.graph, {
      pixel_values: await floatTensor(pixels, [1, images, 3, T, T]),
      pixel_attention_mask: await boolTensor(new Uint8Array(images * T * T).fill(1), [
        1,
        images,
        T,
        T,
      ]),
    })).image_features,
  );
  // The fused graph draws encoder and connector weights from one map.
  const features = refVisionFeatures(spec.encoder, fused.weights, pixels, images);
  const expected = refProjector(
    spec.projector,
    fused.weights,
    features,
    images,
    plan.encoder.patchGridSide,
    plan.encoder.featureDim,
    spec.decoder.hidden,
  );
  assertClose(out, expected, "image_features");

  // A real tile next to a fully padded one (mask 0): the real tile's features
  // must not change, as padding patches are excluded from attention keys.
  const mask = new Uint8Array(images * T * T);
  mask.fill(1, 0, T * T);
  const padded = pixels.slice();
  padded.fill(0, 3 * T * T);
  const withPadding = floats(
    (await runGraph(fused.graph, {
      pixel_values: await floatTensor(padded, [1, images, 3, T, T]),
      pixel_attention_mask: await boolTensor(mask, [1, images, T, T]),
    })).image_features,
  );
  const firstTile = plan.tokensPerTile * spec.decoder.hidden;
  assertClose(withPadding.subarray(0, firstTile), expected.subarray(0, firstTile), "real tile");
});

Deno.test("numerics: the pixel-shuffle connector follows the NHWC index formula, not NCHW or transposed orders", async () => {
  const spec = VISION_CASES["siglip + pixel shuffle r=2 (SmolVLM)"];
  const plan = resolve(spec);
  const tiles = 2;
  const side = plan.encoder.patchGridSide;
  const C = plan.encoder.featureDim;
  const r = 2;
  const features = pseudoRandom(tiles * side * side * C, 21); // no symmetry between h, w and c
  const projector = projectorGraph(plan, SETTINGS);
  const out = floats(
    (await runGraph(projector.graph, {
      features: await floatTensor(features, [tiles, side * side, C]),
    })).image_features,
  );
  // Reference: y[t, m] = x[(h1·r+i)·W + (w1·r+j), c] with m = (i·r+j)·C + c, then proj.
  const proj = projector.weights.get("proj.weight")!;
  const H = spec.decoder.hidden;
  const project = (shuffled: Float32Array) => {
    const rows = shuffled.length / (C * r * r);
    const y = new Float64Array(rows * H);
    for (let t = 0; t < rows; t++) {
      for (let m = 0; m < C * r * r; m++) {
        const v = shuffled[t * C * r * r + m];
        for (let o = 0; o < H; o++) y[t * H + o] += v * proj.data[m * H + o];
      }
    }
    return y;
  };
  const byFormula = new Float32Array(features.length);
  const outSide = side / r;
  const nchw = new Float32Array(features.length);
  const transposed = new Float32Array(features.length);
  for (let n = 0; n < tiles; n++) {
    for (let h1 = 0; h1 < outSide; h1++) {
      for (let w1 = 0; w1 < outSide; w1++) {
        for (let i = 0; i < r; i++) {
          for (let j = 0; j < r; j++) {
            for (let c = 0; c < C; c++) {
              const t = n * outSide * outSide + h1 * outSide + w1;
              const source =
                features[(n * side * side + (h1 * r + i) * side + (w1 * r + j)) * C + c];
              byFormula[t * C * r * r + (i * r + j) * C + c] = source;
              nchw[t * C * r * r + c * r * r + i * r + j] = source; // torch pixel_unshuffle order
              const swapped = n * outSide * outSide + w1 * outSide + h1; // rows and columns swapped
              transposed[swapped * C * r * r + (i * r + j) * C + c] = source;
            }
          }
        }
      }
    }
  }
  assertClose(refPixelShuffle(features, tiles, side, C, r), byFormula, "reference shuffle");
  assertClose(out, project(byFormula), "connector output");
  assert.equal(isClose(out, project(nchw)), false, "an NCHW-ordered shuffle must not match");
  assert.equal(isClose(out, project(transposed)), false, "a transposed shuffle must not match");
});

for (
  const preset of [
    "smolvlm-256m-instruct",
    "mobilevlm-1.7b",
    "smolvlm-instruct",
    "granite-docling-258m",
    "idefics3-8b",
  ]
) {
  const spec = tinySpec(preset, {}, {});
  const d = spec.decoder;
  Deno.test(
    `numerics: ${preset} decoder (${d.heads} heads / ${d.kvHeads} KV, θ ${d.ropeTheta}, ${
      d.tiedEmbeddings ? "tied" : "untied"
    }${d.ropeScaling ? ", llama3 RoPE scaling" : ""}) prefill, cached steps and left padding`,
    async () => {
      const plan = resolve(spec);
      const { embed, decoder } = languageGraphs(plan, SETTINGS, "decoder");
      const H = d.hidden;
      const ids = [1, 17, 300, 4242, 5, 99, 1234];
      const S = ids.length;
      const embeds = floats(
        (await runGraph(embed.graph, { input_ids: await intTensor(ids, [1, S]) })).inputs_embeds,
      );
      assertClose(embeds, refEmbed(embed.weights, ids, H), "embeddings", 0, 0);

      const emptyCache = async () => {
        const feeds: Record<string, Awaited<ReturnType<typeof floatTensor>>> = {};
        for (let i = 0; i < d.layers; i++) {
          for (const part of ["key", "value"]) {
            feeds[`past_key_values.${i}.${part}`] = await floatTensor(new Float32Array(0), [
              1,
              d.kvHeads,
              0,
              d.headDim,
            ]);
          }
        }
        return feeds;
      };
      const run = async (
        rows: Float32Array,
        mask: number[],
        positions: number[],
        past: Record<string, Awaited<ReturnType<typeof floatTensor>>>,
      ) =>
        await runGraph(decoder.graph, {
          inputs_embeds: await floatTensor(rows, [1, positions.length, H]),
          attention_mask: await intTensor(mask, [1, mask.length]),
          position_ids: await intTensor(positions, [1, positions.length]),
          ...past,
        });
      const expected = refLlamaLogits(d, decoder.weights, embeds, S);
      const V = d.vocab;

      const full = await run(embeds, ids.map(() => 1), ids.map((_, i) => i), await emptyCache());
      assertClose(floats(full.logits), expected, "prefill logits", LOGIT_ATOL);

      // The form `vlm synth` emits: the same graph with the head on the last position only.
      const lastOnly = languageGraphs(plan, { ...SETTINGS, logits: "last" }, "decoder");
      const last = await runGraph(lastOnly.decoder.graph, {
        inputs_embeds: await floatTensor(embeds, [1, S, H]),
        attention_mask: await intTensor(ids.map(() => 1), [1, S]),
        position_ids: await intTensor(ids.map((_, i) => i), [1, S]),
        ...await emptyCache(),
      });
      assert.deepEqual(last.logits.dims, [1, 1, V]);
      assertClose(floats(last.logits), expected.subarray((S - 1) * V), "last logits", LOGIT_ATOL);

      // Prefill 4 tokens, then 2, then 1, each continuing the cache.
      let past = await emptyCache();
      let done = 0;
      for (const chunk of [4, 2, 1]) {
        const out = await run(
          embeds.slice(done * H, (done + chunk) * H),
          Array(done + chunk).fill(1),
          Array.from({ length: chunk }, (_, i) => done + i),
          past,
        );
        assertClose(
          floats(out.logits),
          expected.subarray(done * V, (done + chunk) * V),
          `logits after ${done} cached`,
          LOGIT_ATOL,
        );
        past = {};
        for (let i = 0; i < d.layers; i++) {
          past[`past_key_values.${i}.key`] = out[`present.${i}.key`];
          past[`past_key_values.${i}.value`] = out[`present.${i}.value`];
        }
        done += chunk;
      }

      // Left padding: two masked positions; real rows use positions 0…4.
      const mask = [0, 0, 1, 1, 1, 1, 1];
      const positions = [1, 1, 0, 1, 2, 3, 4];
      const padded = await run(embeds, mask, positions, await emptyCache());
      const reference = refLlamaLogitsWithMask(d, decoder.weights, embeds, S, mask, positions);
      assertClose(
        floats(padded.logits).subarray(2 * V),
        reference.subarray(2 * V),
        "left-padded logits",
        LOGIT_ATOL,
      );
    },
  );
}
