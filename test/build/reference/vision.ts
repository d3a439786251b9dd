/**
 * Naive reference for the SigLIP / CLIP ViT vision encoders: patch
 * convolution, position embeddings, pre-LN transformer blocks, feature-layer
 * selection and the optional post-LayerNorm.
 *
 * @module
 */

import type { Activation, EncoderSpec } from "../../../src/spec/types.ts";
import {
  add,
  attention,
  ensure,
  get,
  layerNormLayer,
  linearLayer,
  type WeightMap,
} from "./weights.ts";

/** erf(x) with absolute error far below 1e-7 (power series below 3, continued fraction above). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  const value = ax < 3 ? erfSeries(ax) : 1 - erfcContinuedFraction(ax);
  return x < 0 ? -value : value;
}

/** erf(x) = 2/√π · Σₙ (−1)ⁿ x^(2n+1) / (n!·(2n+1)); cancellation stays ~1e-13 for x < 3. */
function erfSeries(x: number): number {
  let power = x; // (−1)ⁿ x^(2n+1) / n!
  let sum = x;
  for (let n = 1; n < 200; n++) {
    power *= (-x * x) / n;
    const term = power / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from the tail. */
function erfcContinuedFraction(x: number): number {
  let denominator = x;
  for (let k = 80; k >= 1; k--) denominator = x + k / 2 / denominator;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / denominator;
}

/** The scalar function for an activation kind. */
export function activation(kind: Activation): (x: number) => number {
  switch (kind) {
    case "gelu-tanh":
      return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case "gelu":
      return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    case "quick-gelu":
      return (x) => x / (1 + Math.exp(-1.702 * x));
  }
}

/** Patches per grid side: the "valid" convolution ignores the trailing remainder pixels. */
export function gridSide(spec: EncoderSpec): number {
  return Math.floor(spec.imageSize / spec.patchSize);
}

/** Whether key `key` (a patch index) of tile `tile` may be attended to. */
export type ValidKey = (tile: number, key: number) => boolean;

/**
 * Encoder features handed to the projector, [tiles, P, D] with
 * P = (imageSize/patchSize)² (CLIP's class token is dropped).
 * `pixels` is planar [tiles, 3, imageSize, imageSize], already normalised.
 * `validKey` (SigLIP) excludes padded patches from every query's keys.
 */
export function refVisionFeatures(
  spec: EncoderSpec,
  w: WeightMap,
  pixels: Float32Array,
  tiles: number,
  validKey: ValidKey = () => true,
): Float32Array {
  checkEncoderSpec(spec);
  const tileLength = 3 * spec.imageSize * spec.imageSize;
  ensure(
    pixels.length === tiles * tileLength,
    `pixels hold ${pixels.length} values, want ${tiles}×3×${spec.imageSize}×${spec.imageSize}`,
  );
  const rowsPerTile = gridSide(spec) ** 2 * spec.hidden;
  const out = new Float32Array(tiles * rowsPerTile);
  for (let t = 0; t < tiles; t++) {
    const tile = pixels.subarray(t * tileLength, (t + 1) * tileLength);
    out.set(encodeTile(spec, w, tile, (key) => validKey(t, key)), t * rowsPerTile);
  }
  return out;
}

function checkEncoderSpec(spec: EncoderSpec): void {
  ensure(spec.hidden % spec.heads === 0, `encoder heads ${spec.heads} must divide ${spec.hidden}`);
  const remainder = spec.imageSize % spec.patchSize;
  ensure(
    (remainder === 0) === (spec.remainderPixels === "none"),
    `encoder remainderPixels "${spec.remainderPixels}" contradicts ${spec.imageSize} % ${spec.patchSize} = ${remainder}`,
  );
  const blocks = blocksRun(spec);
  ensure(blocks >= 0, `featureLayer "${spec.featureLayer}" needs at least one layer`);
}

/** `penultimate` is HF hidden_states[-2]: the output of block layers−2, so the last block never runs. */
function blocksRun(spec: EncoderSpec): number {
  return spec.featureLayer === "last" ? spec.layers : spec.layers - 1;
}

/** One tile through the encoder: [P, D] features. */
function encodeTile(
  spec: EncoderSpec,
  w: WeightMap,
  tile: Float32Array,
  validKey: (key: number) => boolean,
): Float64Array {
  const d = spec.hidden;
  const patches = embedPatches(spec, w, tile);
  let x = spec.family === "clip-vit"
    ? clipSequence(spec, w, patches)
    : siglipSequence(spec, w, patches);
  const rows = x.length / d;
  ensure(
    spec.family !== "clip-vit" ||
      Array.from({ length: rows }, (_, j) => validKey(j)).every(Boolean),
    "padded patches are masked in SigLIP towers only",
  );
  for (let i = 0; i < blocksRun(spec); i++) x = encoderBlock(spec, w, i, x, rows, validKey);
  if (spec.postLayerNorm) x = layerNormLayer(w, "post_norm", x, rows, d, spec.layerNormEps);
  // CLIP's class token is not a patch feature.
  return spec.family === "clip-vit" ? x.slice(d) : x;
}

/** Conv2d(3 → D, kernel = stride = patchSize, no padding) as explicit sums; row-major patch order. */
function embedPatches(spec: EncoderSpec, w: WeightMap, tile: Float32Array): Float64Array {
  const { imageSize: size, patchSize: p, hidden: d } = spec;
  const g = gridSide(spec);
  const weight = get(w, "patch.weight", [d, 3, p, p]);
  const bias = spec.family === "siglip" ? get(w, "patch.bias", [d]) : null;
  const out = new Float64Array(g * g * d);
  for (let row = 0; row < g; row++) {
    for (let col = 0; col < g; col++) {
      for (let o = 0; o < d; o++) {
        let sum = bias === null ? 0 : bias[o];
        for (let c = 0; c < 3; c++) {
          for (let ky = 0; ky < p; ky++) {
            for (let kx = 0; kx < p; kx++) {
              const pixel = tile[(c * size + row * p + ky) * size + col * p + kx];
              sum += weight[((o * 3 + c) * p + ky) * p + kx] * pixel;
            }
          }
        }
        out[(row * g + col) * d + o] = sum;
      }
    }
  }
  return out;
}

/** SigLIP: patch embeddings plus `position` [P, D]. */
function siglipSequence(spec: EncoderSpec, w: WeightMap, patches: Float64Array): Float64Array {
  const rows = patches.length / spec.hidden;
  const position = get(w, "position", [rows, spec.hidden]);
  return patches.map((v, i) => v + position[i]);
}

/** CLIP: [class, patches…] plus `position` [P+1, D], then the pre-LayerNorm. */
function clipSequence(spec: EncoderSpec, w: WeightMap, patches: Float64Array): Float64Array {
  const d = spec.hidden;
  const rows = patches.length / d + 1;
  const sequence = new Float64Array(rows * d);
  sequence.set(get(w, "class", [d]));
  sequence.set(patches, d);
  const position = get(w, "position", [rows, d]);
  const embedded = sequence.map((v, i) => v + position[i]);
  return layerNormLayer(w, "pre_norm", embedded, rows, d, spec.layerNormEps);
}

/** Pre-LN block: x + attn(LN1(x)), then + mlp(LN2(·)). */
function encoderBlock(
  spec: EncoderSpec,
  w: WeightMap,
  index: number,
  x: Float64Array,
  rows: number,
  validKey: (key: number) => boolean,
): Float64Array {
  const d = spec.hidden;
  const prefix = `layers.${index}`;
  const normed = layerNormLayer(w, `${prefix}.norm1`, x, rows, d, spec.layerNormEps);
  const attended = selfAttention(spec, w, `${prefix}.attn`, normed, rows, validKey);
  const afterAttention = add(x, attended);
  const normed2 = layerNormLayer(w, `${prefix}.norm2`, afterAttention, rows, d, spec.layerNormEps);
  return add(afterAttention, encoderMlp(spec, w, `${prefix}.mlp`, normed2, rows));
}

/** Multi-head attention over the valid keys, with biased q/k/v/out projections. */
function selfAttention(
  spec: EncoderSpec,
  w: WeightMap,
  prefix: string,
  x: Float64Array,
  rows: number,
  validKey: (key: number) => boolean,
): Float64Array {
  const d = spec.hidden;
  const q = linearLayer(w, `${prefix}.q`, x, rows, d, d, true);
  const k = linearLayer(w, `${prefix}.k`, x, rows, d, d, true);
  const v = linearLayer(w, `${prefix}.v`, x, rows, d, d, true);
  const headDim = d / spec.heads;
  const context = attention(q, k, v, rows, spec.heads, spec.heads, headDim, (_, j) => validKey(j));
  return linearLayer(w, `${prefix}.out`, context, rows, d, d, true);
}

/** up → activation → down, both with bias. */
function encoderMlp(
  spec: EncoderSpec,
  w: WeightMap,
  prefix: string,
  x: Float64Array,
  rows: number,
): Float64Array {
  const act = activation(spec.activation);
  const up = linearLayer(w, `${prefix}.up`, x, rows, spec.hidden, spec.mlp, true).map(act);
  return linearLayer(w, `${prefix}.down`, up, rows, spec.mlp, spec.hidden, true);
}
