/**
 * The Llama decoder (SmolLM2, MobileLLaMA): RMSNorm, rotary positions with
 * the spec's θ, grouped-query attention over a KV cache, SwiGLU MLP, and a
 * tied or untied LM head. Inputs and outputs carry the Hugging Face names so
 * the hf-idefics3 runtime contract holds.
 *
 * Attention uses ONNX Runtime's fused `com.microsoft` kernels, which both
 * backends run: one matmul for Q, K and V, then `GroupQueryAttention` on the
 * packed projection (split, RoPE at `position_ids` from cos/sin tables for the
 * whole context, cache append, grouped heads, softmax and the value product in
 * one kernel, with the padding/causal mask passed as `attention_bias`). Gate
 * and up are one matmul too, and each residual Add is folded into the RMSNorm
 * after it (`SkipSimplifiedLayerNormalization`). A layer is then ten nodes
 * after ONNX Runtime's own fusions (seventeen with separate projections),
 * which matters at batch 1, where every node's dispatch costs microseconds
 * against a memory-bound step. The weights are still drawn per projection
 * (`attn.q`, `mlp.gate`, …), the names the references read.
 *
 * @module
 */
import type { DecoderSpec } from "../../spec/types.ts";
import type { WeightTensor } from "../seeded_weights.ts";
import { inverseFrequencies } from "./rope_frequencies.ts";
import { float } from "../onnx_graph.ts";
import {
  activate,
  concatOutputs,
  type LayerContext,
  linear,
  matmul,
  rmsNorm,
  skipRmsNorm,
} from "./ops.ts";

/** Standard deviation of the LM head, so greedy picks are clear (logits std ≈ 4). */
const HEAD_GAIN = 4;

/** Graph values every layer shares. */
interface DecoderShared {
  /** `position_ids` [B, S]. */
  positions: string;
  /** RoPE cosine table [contextLength, hd/2]. */
  cos: string;
  /** RoPE sine table [contextLength, hd/2]. */
  sin: string;
  /** Additive attention bias [B, 1, S, T] (0 or a large negative number). */
  bias: string;
  /** GroupQueryAttention's `seqlens_k`: T − 1 per sequence, int32 [B]. */
  seqlensK: string;
  /** GroupQueryAttention's `total_sequence_length`: T, int32 scalar. */
  total: string;
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

/**
 * cos/sin of position·invFreq[j] (θ^(−2j/hd), maybe scaled) for every
 * position of the context: the tables `GroupQueryAttention` (do_rotary) indexes with
 * `position_ids` ([contextLength, hd/2] each, computed in float64).
 */
function rotaryTables(ctx: LayerContext, spec: DecoderSpec): { cos: string; sin: string } {
  const { g } = ctx;
  const half = spec.headDim / 2;
  const invFreq = inverseFrequencies(spec);
  const cos = new Float32Array(spec.contextLength * half);
  const sin = new Float32Array(spec.contextLength * half);
  for (let p = 0; p < spec.contextLength; p++) {
    for (let j = 0; j < half; j++) {
      cos[p * half + j] = Math.cos(p * invFreq[j]);
      sin[p * half + j] = Math.sin(p * invFreq[j]);
    }
  }
  return {
    cos: g.constant("float32", [spec.contextLength, half], cos),
    sin: g.constant("float32", [spec.contextLength, half], sin),
  };
}

/**
 * The additive mask [B, 1, S, T]: query i (absolute position past + i) may
 * see key j when j ≤ past + i and attention_mask[j] = 1. Also GQA's length
 * inputs: every sequence is T long (padding is masked by the bias instead).
 */
function attentionInputs(
  ctx: LayerContext,
  embeds: string,
  attentionMask: string,
): { bias: string; seqlensK: string; total: string } {
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
  const batch = g.op("Slice", [g.op("Shape", [attentionMask]), g.ints([0]), g.ints([1])]);
  const seqlensK = g.op("Cast", [
    g.op("Expand", [g.op("Sub", [t, one]), batch]),
  ], { to: 6 });
  return { bias, seqlensK, total: g.op("Cast", [t], { to: 6 }) };
}

/** Attention of layer i; writes `present.{i}.*` and returns [B, S, H]. */
function attention(
  ctx: LayerContext,
  x: string,
  i: number,
  spec: DecoderSpec,
  shared: DecoderShared,
): string {
  const { g, w } = ctx;
  const { hidden, heads, kvHeads, headDim } = spec;
  const name = `layers.${i}.attn`;
  const names = cacheNames(i);
  return g.scope("attn", () => {
    // Drawn separately (the names the references read), stored as one [H, (h+2kv)·hd] matmul.
    const q = w.matrix(`${name}.q.weight`, hidden, heads * headDim);
    const k = w.matrix(`${name}.k.weight`, hidden, kvHeads * headDim);
    const v = w.matrix(`${name}.v.weight`, hidden, kvHeads * headDim);
    const qkv = matmul(ctx, x, `${name}.qkv.weight`, concatOutputs([q, k, v]));
    // Packed QKV: GQA splits it, rotates q and k at `position_ids` with the
    // cos/sin tables (do_rotary), appends k/v to the cache (present = past ++
    // new, [B,kv,T,hd]) and attends, all in one kernel.
    const [context] = g.ops(
      "GroupQueryAttention",
      [
        qkv,
        "",
        "",
        names.pastKey,
        names.pastValue,
        shared.seqlensK,
        shared.total,
        shared.cos,
        shared.sin,
        shared.positions,
        shared.bias,
      ],
      {
        num_heads: heads,
        kv_num_heads: kvHeads,
        scale: float(1 / Math.sqrt(headDim)),
        do_rotary: 1,
        rotary_interleaved: 0,
      },
      {
        domain: "com.microsoft",
        outputs: [`${name}/context`, names.presentKey, names.presentValue],
      },
      3,
    );
    return linear(ctx, context, `${name}.o`, heads * headDim, hidden, { bias: false });
  });
}

/** SwiGLU MLP of layer i: down(silu(x·gate) ⊙ x·up), gate and up as one matmul. */
function mlp(ctx: LayerContext, x: string, i: number, spec: DecoderSpec): string {
  const { g, w } = ctx;
  const name = `layers.${i}.mlp`;
  return g.scope("mlp", () => {
    const gateWeight = w.matrix(`${name}.gate.weight`, spec.hidden, spec.intermediate);
    const upWeight = w.matrix(`${name}.up.weight`, spec.hidden, spec.intermediate);
    const both = matmul(ctx, x, `${name}.gate_up.weight`, concatOutputs([gateWeight, upWeight]));
    const [gate, up] = g.ops(
      "Split",
      [both, g.ints([spec.intermediate, spec.intermediate])],
      { axis: -1 },
      {},
      2,
    );
    return linear(
      ctx,
      g.op("Mul", [activate(g, gate, "silu"), up]),
      `${name}.down`,
      spec.intermediate,
      spec.hidden,
      { bias: false },
    );
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
 * Decoder body over `embeds` [B, S, H]: returns logits [B, S, V], or
 * [B, 1, V] for the last position when `lastOnly`. Cache inputs/outputs are
 * declared by the caller with {@linkcode cacheNames}. `tiedTable` is the
 * embedding table when the head is tied.
 */
export function llamaDecoder(
  ctx: LayerContext,
  embeds: string,
  attentionMask: string,
  positionIds: string,
  spec: DecoderSpec,
  tiedTable?: WeightTensor,
  lastOnly = false,
): string {
  const { g } = ctx;
  const shared: DecoderShared = {
    positions: positionIds,
    ...rotaryTables(ctx, spec),
    ...attentionInputs(ctx, embeds, attentionMask),
  };
  // Each residual Add is folded into the norm that follows it
  // (SkipSimplifiedLayerNormalization returns both the sum and its norm).
  let residual = embeds;
  let normed = rmsNorm(ctx, embeds, "layers.0.input_norm", spec.hidden, spec.rmsEps);
  let final = "";
  for (let i = 0; i < spec.layers; i++) {
    g.scope(`layers.${i}`, () => {
      const attended = attention(ctx, normed, i, spec, shared);
      const post = skipRmsNorm(
        ctx,
        attended,
        residual,
        `layers.${i}.post_attn_norm`,
        spec.hidden,
        spec.rmsEps,
      );
      let out = mlp(ctx, post.normed, i, spec);
      let skip = post.sum;
      const last = i === spec.layers - 1;
      if (last && lastOnly) {
        // The final norm and the head see the last position only: [B, S, H] → [B, 1, H].
        const lastRow = (v: string) =>
          g.op("Slice", [v, g.ints([-1]), g.ints([Number.MAX_SAFE_INTEGER]), g.ints([1])]);
        out = lastRow(out);
        skip = lastRow(skip);
      }
      const next = skipRmsNorm(
        ctx,
        out,
        skip,
        last ? "norm" : `layers.${i + 1}.input_norm`,
        spec.hidden,
        spec.rmsEps,
      );
      if (last) final = next.normed;
      else ({ normed, sum: residual } = next);
    });
  }
  if (tiedTable) {
    // The head shares the embedding values; the decoder file holds its own [H, V] copy.
    return matmul(ctx, final, "lm_head.weight", transposed(tiedTable));
  }
  const head = ctx.w.matrix("lm_head.weight", spec.hidden, spec.vocab, HEAD_GAIN);
  return matmul(ctx, final, "lm_head.weight", head);
}
