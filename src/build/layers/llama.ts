/**
 * The Llama decoder (SmolLM2, MobileLLaMA): RMSNorm, rotary positions with
 * the spec's θ, grouped-query attention over a KV cache, SwiGLU MLP, and a
 * tied or untied LM head. Inputs and outputs carry the Hugging Face names so
 * the hf-idefics3 runtime contract holds.
 *
 * @module
 */
import type { DecoderSpec } from "../../spec/types.ts";
import type { WeightTensor } from "../seeded_weights.ts";
import { inverseFrequencies } from "./rope_frequencies.ts";
import { activate, type LayerContext, linear, matmul, reshape, rmsNorm, transpose } from "./ops.ts";

/** Standard deviation of the LM head, so greedy picks are clear (logits std ≈ 4). */
const HEAD_GAIN = 4;

/** Graph values every layer shares. */
interface DecoderShared {
  /** RoPE cosines [B, 1, S, hd]. */
  cos: string;
  /** RoPE sines [B, 1, S, hd]. */
  sin: string;
  /** Additive attention bias [B, 1, 1, S, T] (0 or a large negative number). */
  bias: string;
}

/** Names of the cache inputs/outputs of layer `i`. */
export function cacheNames(
  i: number,
): { pastKey: string; pastValue: string; presentKey: string; presentValue: string } {
  return {
    pastKey: `past_key_values.${i}.key`,
    pastValue: `past_key_values.${i}.value`,
    presentKey: `present.${i}.key`,
    presentValue: `present.${i}.value`,
  };
}

/** cos/sin of position·invFreq[j] (θ^(−2j/hd), maybe scaled), duplicated over both halves: [B, 1, S, hd]. */
function rotaryTables(
  ctx: LayerContext,
  positionIds: string,
  spec: DecoderSpec,
): { cos: string; sin: string } {
  const { g } = ctx;
  const half = spec.headDim / 2;
  const invFreq = Float32Array.from(inverseFrequencies(spec));
  const positions = g.op("Unsqueeze", [g.op("Cast", [positionIds], { to: 1 }), g.ints([-1])]); // [B,S,1]
  const freqs = g.op("Mul", [positions, g.constant("float32", [half], invFreq)]); // [B,S,hd/2]
  const angles = g.op("Unsqueeze", [g.op("Concat", [freqs, freqs], { axis: -1 }), g.ints([1])]);
  return { cos: g.op("Cos", [angles]), sin: g.op("Sin", [angles]) };
}

/**
 * The additive mask [B, 1, 1, S, T]: query i (absolute position past + i) may
 * see key j when j ≤ past + i and attention_mask[j] = 1.
 */
function attentionBias(ctx: LayerContext, embeds: string, attentionMask: string): string {
  const { g } = ctx;
  const dim = (value: string, axis: number) =>
    g.op("Squeeze", [
      g.op("Slice", [g.op("Shape", [value]), g.ints([axis]), g.ints([axis + 1])]),
      g.ints([0]),
    ]);
  const s = dim(embeds, 1);
  const t = dim(attentionMask, 1);
  const past = g.op("Sub", [t, s]);
  const one = g.constant("int64", [], BigInt64Array.of(1n));
  const keys = g.op("Unsqueeze", [
    g.op("Range", [g.constant("int64", [], BigInt64Array.of(0n)), t, one]),
    g.ints([0]),
  ]);
  const queries = g.op("Unsqueeze", [g.op("Range", [past, t, one]), g.ints([1])]);
  const causal = g.op("LessOrEqual", [keys, queries]); // [S,T]
  const valid = g.op("Unsqueeze", [g.op("Cast", [attentionMask], { to: 9 }), g.ints([1, 2])]); // [B,1,1,T]
  const allowed = g.op("And", [causal, valid]); // [B,1,S,T]
  const bias = g.op("Where", [allowed, g.scalar(0), g.scalar(-3.4028234663852886e38)]);
  return g.op("Unsqueeze", [bias, g.ints([1])]);
}

/** x·cos + rotate_half(x)·sin on [B, h, S, hd]; rotate_half(x) = [−x₂, x₁]. */
function applyRotary(ctx: LayerContext, x: string, shared: DecoderShared, headDim: number): string {
  const { g } = ctx;
  const [x1, x2] = g.ops("Split", [x, g.ints([headDim / 2, headDim / 2])], { axis: -1 }, {}, 2);
  const rotated = g.op("Concat", [g.op("Neg", [x2]), x1], { axis: -1 });
  return g.op("Add", [g.op("Mul", [x, shared.cos]), g.op("Mul", [rotated, shared.sin])]);
}

/** Attention of layer i; writes `present.{i}.*` and returns [B, S, H]. */
function attention(
  ctx: LayerContext,
  x: string,
  i: number,
  spec: DecoderSpec,
  shared: DecoderShared,
): string {
  const { g } = ctx;
  const { hidden, heads, kvHeads, headDim } = spec;
  const name = `layers.${i}.attn`;
  const names = cacheNames(i);
  return g.scope("attn", () => {
    const split = (value: string, count: number) =>
      transpose(g, reshape(g, value, [0, 0, count, headDim]), [0, 2, 1, 3]); // [B,h,S,hd]
    const q = applyRotary(
      ctx,
      split(linear(ctx, x, `${name}.q`, hidden, heads * headDim, { bias: false }), heads),
      shared,
      headDim,
    );
    const k = applyRotary(
      ctx,
      split(linear(ctx, x, `${name}.k`, hidden, kvHeads * headDim, { bias: false }), kvHeads),
      shared,
      headDim,
    );
    const v = split(
      linear(ctx, x, `${name}.v`, hidden, kvHeads * headDim, { bias: false }),
      kvHeads,
    );
    const keys = g.op("Concat", [names.pastKey, k], { axis: 2 }, { outputs: [names.presentKey] }); // [B,kv,T,hd]
    const values = g.op("Concat", [names.pastValue, v], { axis: 2 }, {
      outputs: [names.presentValue],
    });
    // Grouped query: query head h = kv·rep + j shares kv head kv; broadcasting avoids copying the cache.
    const grouped = reshape(g, q, [0, kvHeads, heads / kvHeads, -1, headDim]); // [B,kv,rep,S,hd]
    const keysT = g.op("Unsqueeze", [transpose(g, keys, [0, 1, 3, 2]), g.ints([2])]); // [B,kv,1,hd,T]
    const scores = g.op("Mul", [
      g.op("MatMul", [grouped, keysT]),
      g.scalar(1 / Math.sqrt(headDim)),
    ]);
    const probs = g.op("Softmax", [g.op("Add", [scores, shared.bias])], { axis: -1 }); // [B,kv,rep,S,T]
    const context = g.op("MatMul", [probs, g.op("Unsqueeze", [values, g.ints([2])])]); // [B,kv,rep,S,hd]
    const merged = reshape(
      g,
      transpose(g, reshape(g, context, [0, heads, -1, headDim]), [0, 2, 1, 3]),
      [
        0,
        0,
        heads * headDim,
      ],
    );
    return linear(ctx, merged, `${name}.o`, heads * headDim, hidden, { bias: false });
  });
}

/** SwiGLU MLP of layer i: down(silu(x·gate) ⊙ x·up). */
function mlp(ctx: LayerContext, x: string, i: number, spec: DecoderSpec): string {
  const { g } = ctx;
  const name = `layers.${i}.mlp`;
  return g.scope("mlp", () => {
    const gate = activate(
      g,
      linear(ctx, x, `${name}.gate`, spec.hidden, spec.intermediate, { bias: false }),
      "silu",
    );
    const up = linear(ctx, x, `${name}.up`, spec.hidden, spec.intermediate, { bias: false });
    return linear(ctx, g.op("Mul", [gate, up]), `${name}.down`, spec.intermediate, spec.hidden, {
      bias: false,
    });
  });
}

/** The embedding table `embed.weight` [V, H]; std 1 untied, the head's scale when tied. */
export function embeddingTable(ctx: LayerContext, spec: DecoderSpec): WeightTensor {
  const std = spec.tiedEmbeddings ? HEAD_GAIN / Math.sqrt(spec.hidden) : 1;
  return ctx.w.normal("embed.weight", [spec.vocab, spec.hidden], std);
}

/** [V, H] → [H, V]. */
function transposed(table: WeightTensor): WeightTensor {
  const [v, h] = table.dims;
  const data = new Float32Array(v * h);
  for (let r = 0; r < v; r++) {
    for (let c = 0; c < h; c++) data[c * v + r] = table.data[r * h + c];
  }
  return { dims: [h, v], data };
}

/**
 * Decoder body over `embeds` [B, S, H]: returns logits [B, S, V]. Cache
 * inputs/outputs are declared by the caller with {@linkcode cacheNames}.
 * `tiedTable` is the embedding table when the head is tied.
 */
export function llamaDecoder(
  ctx: LayerContext,
  embeds: string,
  attentionMask: string,
  positionIds: string,
  spec: DecoderSpec,
  tiedTable?: WeightTensor,
): string {
  const { g } = ctx;
  const shared: DecoderShared = {
    ...rotaryTables(ctx, positionIds, spec),
    bias: attentionBias(ctx, embeds, attentionMask),
  };
  let x = embeds;
  for (let i = 0; i < spec.layers; i++) {
    x = g.scope(`layers.${i}`, () => {
      const attended = attention(
        ctx,
        rmsNorm(ctx, x, `layers.${i}.input_norm`, spec.hidden, spec.rmsEps),
        i,
        spec,
        shared,
      );
      const h = g.op("Add", [x, attended]);
      const normed = rmsNorm(ctx, h, `layers.${i}.post_attn_norm`, spec.hidden, spec.rmsEps);
      return g.op("Add", [h, mlp(ctx, normed, i, spec)]);
    });
  }
  const final = rmsNorm(ctx, x, "norm", spec.hidden, spec.rmsEps);
  if (tiedTable) {
    // The head shares the embedding values; the decoder file holds its own [H, V] copy.
    return matmul(ctx, final, "lm_head.weight", transposed(tiedTable));
  }
  const head = ctx.w.matrix("lm_head.weight", spec.hidden, spec.vocab, HEAD_GAIN);
  return matmul(ctx, final, "lm_head.weight", head);
}
