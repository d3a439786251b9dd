/**
 * Naive reference for the projectors (connectors) that map encoder features
 * [tiles, side², D] to decoder embeddings [tiles·tokensPerTile, H]:
 * Idefics3 pixel shuffle + linear, LLaVA MLP, MobileVLM LDP and LDPv2.
 *
 * Images are kept as [side·side, channels] arrays (pixel t = row·side + col),
 * which is the token layout; convolutions index them as channels-first maps.
 *
 * @module
 */

import type { Activation, ProjectorSpec } from "../../../src/spec/types.ts";
import { activation } from "./vision.ts";
import {
  add,
  ensure,
  get,
  layerNormLayer,
  linear,
  linearLayer,
  type WeightMap,
} from "./weights.ts";

/** LDP's LayerNorm epsilon. */
const LDP_NORM_EPS = 1e-5;

/** A square image stored pixel-major: data[(row·side + col)·channels + c]. */
interface Image {
  data: Float64Array;
  side: number;
}

/**
 * NHWC space-to-depth by `r` (Idefics3 pixel shuffle) on [tiles, side², channels].
 * Output token t = h1·(side/r) + w1 holds, at channel (i·r + j)·channels + c,
 * input pixel (h1·r + i, w1·r + j) channel c. Returns [tiles, (side/r)², channels·r²].
 */
export function refPixelShuffle(
  x: Float32Array,
  tiles: number,
  side: number,
  channels: number,
  r: number,
): Float32Array {
  ensure(side % r === 0, `pixel shuffle: ratio ${r} must divide side ${side}`);
  ensure(x.length === tiles * side * side * channels, `pixel shuffle: input length ${x.length}`);
  const outSide = side / r;
  const out = new Float32Array(x.length);
  for (let t = 0; t < tiles; t++) {
    const base = t * side * side * channels;
    // Walk the input and scatter each pixel to its output slot.
    for (let row = 0; row < side; row++) {
      for (let col = 0; col < side; col++) {
        const token = Math.floor(row / r) * outSide + Math.floor(col / r);
        const slot = (row % r) * r + (col % r);
        for (let c = 0; c < channels; c++) {
          const to = base + (token * r * r + slot) * channels + c;
          out[to] = x[base + (row * side + col) * channels + c];
        }
      }
    }
  }
  return out;
}

/**
 * Projector output [tiles·tokensPerTile, decoderHidden] for encoder features
 * [tiles, side², encoderHidden].
 */
export function refProjector(
  spec: ProjectorSpec,
  w: WeightMap,
  features: Float32Array,
  tiles: number,
  side: number,
  encoderHidden: number,
  decoderHidden: number,
): Float32Array {
  const tileLength = side * side * encoderHidden;
  ensure(
    features.length === tiles * tileLength,
    `projector: features hold ${features.length} values, want ${tiles}×${side}²×${encoderHidden}`,
  );
  const outputs: Float64Array[] = [];
  for (let t = 0; t < tiles; t++) {
    const tile = features.subarray(t * tileLength, (t + 1) * tileLength);
    outputs.push(projectTile(spec, w, tile, side, encoderHidden, decoderHidden));
  }
  const out = new Float32Array(outputs.reduce((n, o) => n + o.length, 0));
  let offset = 0;
  for (const o of outputs) {
    out.set(o, offset);
    offset += o.length;
  }
  return out;
}

function projectTile(
  spec: ProjectorSpec,
  w: WeightMap,
  tile: Float32Array,
  side: number,
  d: number,
  h: number,
): Float64Array {
  switch (spec.kind) {
    case "pixel-shuffle-linear": {
      const r = spec.scaleFactor;
      const shuffled = Float64Array.from(refPixelShuffle(tile, 1, side, d, r));
      const tokens = (side / r) ** 2;
      return linear(shuffled, tokens, get(w, "proj.weight", [d * r * r, h]), d * r * r, h);
    }
    case "mlp":
      return mlpProjector(
        spec.layers,
        spec.activation,
        w,
        Float64Array.from(tile),
        side * side,
        d,
        h,
      );
    case "ldp":
      return ldpProjector(w, tile, side, d, h);
    case "ldpv2":
      return ldpV2Projector(w, tile, side, d, h);
  }
}

/** LLaVA MLP: `layers` Linear layers with bias, the activation between them (not after the last). */
function mlpProjector(
  layers: number,
  kind: Activation,
  w: WeightMap,
  x: Float64Array,
  rows: number,
  d: number,
  h: number,
): Float64Array {
  ensure(layers >= 1, `mlp projector needs at least one layer, got ${layers}`);
  const act = activation(kind);
  let y = x;
  for (let j = 0; j < layers; j++) {
    y = linearLayer(w, `layers.${j}`, y, rows, j === 0 ? d : h, h, true);
    if (j < layers - 1) y = y.map(act);
  }
  return y;
}

/** MobileVLM's two-layer MLP: mlp.0 → exact GELU → mlp.1, both with bias. */
function mobileVlmMlp(w: WeightMap, tile: Float32Array, side: number, d: number, h: number): Image {
  const rows = side * side;
  const hidden = linearLayer(w, "mlp.0", Float64Array.from(tile), rows, d, h, true)
    .map(activation("gelu"));
  return { data: linearLayer(w, "mlp.1", hidden, rows, h, h, true), side };
}

/** LDP (MobileVLM V1): MLP, then a stride-1 and a stride-2 MobileNetV3 block. */
function ldpProjector(
  w: WeightMap,
  tile: Float32Array,
  side: number,
  d: number,
  h: number,
): Float64Array {
  const image = mobileVlmMlp(w, tile, side, d, h);
  const first = ldpBlock(w, 0, image, h, 1);
  return ldpBlock(w, 1, first, h, 2).data;
}

/** LDPv2 (MobileVLM V2): MLP, 2×2 average pool, then x + PEG(x) (depthwise 3×3 with bias). */
function ldpV2Projector(
  w: WeightMap,
  tile: Float32Array,
  side: number,
  d: number,
  h: number,
): Float64Array {
  ensure(side % 2 === 0, `ldpv2: the 2×2 pool needs an even side, got ${side}`);
  const pooled = averagePool2x2(mobileVlmMlp(w, tile, side, d, h), h);
  const peg = depthwiseConv3x3(
    pooled,
    h,
    get(w, "peg.weight", [h, 1, 3, 3]),
    get(w, "peg.bias", [h]),
    1,
  );
  return add(pooled.data, peg.data);
}

/**
 * MobileNetV3 inverted residual without expansion: depthwise 3×3 → LN → Hardswish →
 * squeeze-excite → pointwise 1×1 → LN, plus the input when the stride is 1.
 */
function ldpBlock(w: WeightMap, b: number, x: Image, h: number, stride: number): Image {
  const prefix = `blocks.${b}`;
  const dw = depthwiseConv3x3(x, h, get(w, `${prefix}.dw.weight`, [h, 1, 3, 3]), null, stride);
  const pixels = dw.side * dw.side;
  const normed = layerNormLayer(w, `${prefix}.norm1`, dw.data, pixels, h, LDP_NORM_EPS);
  const excited = squeezeExcite(w, `${prefix}.se`, normed.map(hardswish), pixels, h);
  const pointwise = linear(excited, pixels, get(w, `${prefix}.pw.weight`, [h, h]), h, h);
  const out = layerNormLayer(w, `${prefix}.norm2`, pointwise, pixels, h, LDP_NORM_EPS);
  return { data: stride === 1 ? add(out, x.data) : out, side: dw.side };
}

/** Per-channel 3×3 convolution, zero padding 1; out side = floor((side + 2 − 3)/stride) + 1. */
function depthwiseConv3x3(
  x: Image,
  channels: number,
  weight: Float32Array,
  bias: Float32Array | null,
  stride: number,
): Image {
  const side = Math.floor((x.side + 2 - 3) / stride) + 1;
  const data = new Float64Array(side * side * channels);
  for (let oy = 0; oy < side; oy++) {
    for (let ox = 0; ox < side; ox++) {
      for (let c = 0; c < channels; c++) {
        let sum = bias === null ? 0 : bias[c];
        for (let ky = 0; ky < 3; ky++) {
          const iy = oy * stride + ky - 1;
          if (iy < 0 || iy >= x.side) continue;
          for (let kx = 0; kx < 3; kx++) {
            const ix = ox * stride + kx - 1;
            if (ix < 0 || ix >= x.side) continue;
            sum += weight[(c * 3 + ky) * 3 + kx] * x.data[(iy * x.side + ix) * channels + c];
          }
        }
        data[(oy * side + ox) * channels + c] = sum;
      }
    }
  }
  return { data, side };
}

/** Squeeze-excite: channel means → fc1 → ReLU → fc2 → Hardsigmoid → scale each channel. */
function squeezeExcite(
  w: WeightMap,
  prefix: string,
  x: Float64Array,
  pixels: number,
  h: number,
): Float64Array {
  const squeeze = squeezeWidth(h);
  const means = new Float64Array(h);
  for (let p = 0; p < pixels; p++) for (let c = 0; c < h; c++) means[c] += x[p * h + c] / pixels;
  const reduced = linearLayer(w, `${prefix}.fc1`, means, 1, h, squeeze, true)
    .map((v) => Math.max(0, v));
  const scale = linearLayer(w, `${prefix}.fc2`, reduced, 1, squeeze, h, true).map(hardsigmoid);
  return x.map((v, i) => v * scale[i % h]);
}

/** torchvision `_make_divisible(H/4, 8)`: nearest multiple of 8 (at least 8), bumped if it lost over 10%. */
export function squeezeWidth(h: number): number {
  const value = h / 4;
  const rounded = Math.max(8, Math.floor((value + 4) / 8) * 8);
  return rounded < 0.9 * value ? rounded + 8 : rounded;
}

/** Mean of each 2×2 window, stride 2. */
function averagePool2x2(x: Image, channels: number): Image {
  const side = x.side / 2;
  const data = new Float64Array(side * side * channels);
  for (let oy = 0; oy < side; oy++) {
    for (let ox = 0; ox < side; ox++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            sum += x.data[((2 * oy + dy) * x.side + 2 * ox + dx) * channels + c];
          }
        }
        data[(oy * side + ox) * channels + c] = sum / 4;
      }
    }
  }
  return { data, side };
}

function relu6(x: number): number {
  return Math.min(6, Math.max(0, x));
}

function hardswish(x: number): number {
  return (x * relu6(x + 3)) / 6;
}

function hardsigmoid(x: number): number {
  return relu6(x + 3) / 6;
}
