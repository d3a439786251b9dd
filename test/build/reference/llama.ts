/**
 * Naive reference for the Llama decoder: embedding lookup, RMSNorm, RoPE
 * ("rotate_half" convention), grouped-query causal attention, SwiGLU and the
 * LM head. Always a full forward pass from the given positions (no KV cache).
 *
 * @module
 */

import type { DecoderSpec } from "../../../src/spec/types.ts";
import {
  add,
  attention,
  ensure,
  get,
  linear,
  linearLayer,
  lookup,
  type WeightMap,
} from "./weights.ts";

/** Rows of `embed.weight` [V, hidden] for `ids`: [ids.length, hidden]. */
export function refEmbed(w: WeightMap, ids: number[], hidden: number): Float32Array {
  const vocab = lookup(w, "embed.weight").dims[0];
  const table = get(w, "embed.weight", [vocab, hidden]);
  const out = new Float32Array(ids.length * hidden);
  ids.forEach((id, s) => {
    ensure(
      Number.isInteger(id) && id >= 0 && id < vocab,
      `token id ${id} is outside [0, ${vocab})`,
    );
    out.set(table.subarray(id * hidden, (id + 1) * hidden), s * hidden);
  });
  return out;
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · weight. */
export function rmsNorm(
  x: Float64Array,
  rows: number,
  dim: number,
  weight: Float32Array,
  eps: number,
): Float64Array {
  const y = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let squares = 0;
    for (let i = 0; i < dim; i++) squares += x[r * dim + i] ** 2;
    const inv = 1 / Math.sqrt(squares / dim + eps);
    for (let i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i] * inv * weight[i];
  }
  return y;
}

/**
 * Rotates one head vector `x[offset, offset + headDim)` in place by RoPE at
 * `position`: pairs (j, j + headDim/2) turn by position·θ^(−2j/headDim).
 */
export function applyRope(
  x: Float64Array,
  offset: number,
  headDim: number,
  position: number,
  theta: number | readonly number[],
): void {
  const half = headDim / 2;
  for (let j = 0; j < half; j++) {
    const frequency = typeof theta === "number" ? theta ** ((-2 * j) / headDim) : theta[j];
    const angle = position * frequency;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const a = x[offset + j];
    const b = x[offset + j + half];
    x[offset + j] = a * cos - b * sin;
    x[offset + j + half] = b * cos + a * sin;
  }
}

/**
 * Per-pair rotation frequencies. Plain RoPE: θ^(−2j/d). Llama 3.1 scaling
 * (from its definition): a pair whose period 2π/f is below
 * original/highFreqFactor is kept, one above original/lowFreqFactor becomes
 * f/factor, and in between f·(s + (1 − s)/factor) with
 * s = (original·f/2π − lowFreqFactor)/(highFreqFactor − lowFreqFactor).
 */
export function ropeFrequencies(spec: DecoderSpec): number[] {
  const out: number[] = [];
  for (let j = 0; j < spec.headDim / 2; j++) {
    const f = spec.ropeTheta ** ((-2 * j) / spec.headDim);
    const scaling = spec.ropeScaling;
    if (!scaling) {
      out.push(f);
      continue;
    }
    const period = (2 * Math.PI) / f;
    const original = scaling.originalContextLength;
    if (period < original / scaling.highFreqFactor) out.push(f);
    else if (period > original / scaling.lowFreqFactor) out.push(f / scaling.factor);
    else {
      const s = (original * f / (2 * Math.PI) - scaling.lowFreqFactor) /
        (scaling.highFreqFactor - scaling.lowFreqFactor);
      out.push(f * (s + (1 - s) / scaling.factor));
    }
  }
  return out;
}

/** Logits [seqLen, V] for `embeds` [seqLen, H] at positions 0…seqLen−1, causal, no padding. */
export function refLlamaLogits(
  spec: DecoderSpec,
  w: WeightMap,
  embeds: Float32Array,
  seqLen: number,
): Float32Array {
  const everything = new Array<number>(seqLen).fill(1);
  const positions = Array.from({ length: seqLen }, (_, i) => i);
  return refLlamaLogitsWithMask(spec, w, embeds, seqLen, everything, positions);
}

/**
 * Logits [seqLen, V] with an attention mask (1 = real token, 0 = padding) and
 * explicit RoPE position ids. Query i sees key j iff j ≤ i and mask[j] = 1.
 * Rows of padding positions are computed but carry no meaning (with left
 * padding they see no key and their attention output is zero).
 */
export function refLlamaLogitsWithMask(
  spec: DecoderSpec,
  w: WeightMap,
  embeds: Float32Array,
  seqLen: number,
  attentionMask: number[],
  positionIds: number[],
): Float32Array {
  checkDecoderSpec(spec);
  ensure(
    embeds.length === seqLen * spec.hidden,
    `embeds hold ${embeds.length} values, want ${seqLen}×${spec.hidden}`,
  );
  ensure(
    attentionMask.length === seqLen,
    `attention mask has ${attentionMask.length} entries, want ${seqLen}`,
  );
  ensure(attentionMask.every((m) => m === 0 || m === 1), "attention mask entries must be 0 or 1");
  ensure(
    positionIds.length === seqLen,
    `position ids have ${positionIds.length} entries, want ${seqLen}`,
  );
  const visible = (query: number, key: number) => key <= query && attentionMask[key] === 1;
  let x: Float64Array = Float64Array.from(embeds);
  for (let i = 0; i < spec.layers; i++) {
    x = decoderLayer(spec, w, i, x, seqLen, positionIds, visible);
  }
  const normed = rmsNorm(x, seqLen, spec.hidden, get(w, "norm.weight", [spec.hidden]), spec.rmsEps);
  return Float32Array.from(lmHead(spec, w, normed, seqLen));
}

function checkDecoderSpec(spec: DecoderSpec): void {
  if (spec.ropeScaling !== null && spec.ropeScaling.type !== "llama3") {
    throw new Error(`the reference decoder does not know ropeScaling "${spec.ropeScaling.type}"`);
  }
  ensure(
    spec.heads % spec.kvHeads === 0,
    `kvHeads ${spec.kvHeads} must divide heads ${spec.heads}`,
  );
  ensure(spec.headDim % 2 === 0, `RoPE needs an even headDim, got ${spec.headDim}`);
}

/** x + attn(RMSNorm(x)), then + SwiGLU(RMSNorm(·)). */
function decoderLayer(
  spec: DecoderSpec,
  w: WeightMap,
  index: number,
  x: Float64Array,
  seqLen: number,
  positions: number[],
  visible: (query: number, key: number) => boolean,
): Float64Array {
  const h = spec.hidden;
  const prefix = `layers.${index}`;
  const normed = rmsNorm(x, seqLen, h, get(w, `${prefix}.input_norm.weight`, [h]), spec.rmsEps);
  const attended = add(
    x,
    selfAttention(spec, w, `${prefix}.attn`, normed, seqLen, positions, visible),
  );
  const normed2 = rmsNorm(
    attended,
    seqLen,
    h,
    get(w, `${prefix}.post_attn_norm.weight`, [h]),
    spec.rmsEps,
  );
  return add(attended, swiGlu(spec, w, `${prefix}.mlp`, normed2, seqLen));
}

/** Bias-free q/k/v projections, RoPE on q and k, grouped-query attention, output projection. */
function selfAttention(
  spec: DecoderSpec,
  w: WeightMap,
  prefix: string,
  x: Float64Array,
  seqLen: number,
  positions: number[],
  visible: (query: number, key: number) => boolean,
): Float64Array {
  const { hidden: h, heads, kvHeads, headDim } = spec;
  const q = linearLayer(w, `${prefix}.q`, x, seqLen, h, heads * headDim, false);
  const k = linearLayer(w, `${prefix}.k`, x, seqLen, h, kvHeads * headDim, false);
  const v = linearLayer(w, `${prefix}.v`, x, seqLen, h, kvHeads * headDim, false);
  const frequencies = ropeFrequencies(spec);
  rotateHeads(q, seqLen, heads, headDim, positions, frequencies);
  rotateHeads(k, seqLen, kvHeads, headDim, positions, frequencies);
  const context = attention(q, k, v, seqLen, heads, kvHeads, headDim, visible);
  return linearLayer(w, `${prefix}.o`, context, seqLen, heads * headDim, h, false);
}

/** RoPE on every head of a [seqLen, heads·headDim] array, each row at its own position. */
function rotateHeads(
  x: Float64Array,
  seqLen: number,
  heads: number,
  headDim: number,
  positions: number[],
  frequencies: readonly number[],
): void {
  for (let s = 0; s < seqLen; s++) {
    for (let hd = 0; hd < heads; hd++) {
      applyRope(x, (s * heads + hd) * headDim, headDim, positions[s], frequencies);
    }
  }
}

/** down(silu(x·gate) ⊙ (x·up)). */
function swiGlu(
  spec: DecoderSpec,
  w: WeightMap,
  prefix: string,
  x: Float64Array,
  seqLen: number,
): Float64Array {
  const { hidden: h, intermediate: i } = spec;
  const gate = linearLayer(w, `${prefix}.gate`, x, seqLen, h, i, false);
  const up = linearLayer(w, `${prefix}.up`, x, seqLen, h, i, false);
  const gated = gate.map((g, n) => (g / (1 + Math.exp(-g))) * up[n]);
  return linearLayer(w, `${prefix}.down`, gated, seqLen, i, h, false);
}

/** x·lm_head [H, V], or x·embedᵀ when the embeddings are tied. */
function lmHead(spec: DecoderSpec, w: WeightMap, x: Float64Array, seqLen: number): Float64Array {
  const { hidden: h, vocab } = spec;
  if (!spec.tiedEmbeddings) {
    return linear(x, seqLen, get(w, "lm_head.weight", [h, vocab]), h, vocab);
  }
  const embed = get(w, "embed.weight", [vocab, h]);
  const logits = new Float64Array(seqLen * vocab);
  for (let s = 0; s < seqLen; s++) {
    for (let t = 0; t < vocab; t++) {
      let dot = 0;
      for (let e = 0; e < h; e++) dot += x[s * h + e] * embed[t * h + e];
      logits[s * vocab + t] = dot;
    }
  }
  return logits;
}
