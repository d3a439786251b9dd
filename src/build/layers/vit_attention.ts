/**
 * Self-attention of the ViT towers (SigLIP, CLIP) in two forms.
 *
 * `fused` (what the builder emits): one [D, 3D] matmul for Q, K and V, then
 * ONNX Runtime's `com.microsoft` `MultiHeadAttention`, which both backends
 * run. Its CPU kernel takes separate Q/K/V [N, S, D] (it does not implement
 * packed QKV), adds the packed [3D] `bias` while it lays out the heads, and
 * masks keys with an int32 `key_padding_mask` [N, S]. Without a mask, on
 * native, it runs a flash-attention kernel that never holds the
 * [N, heads, S, S] scores; a mask (or wasm, where it has no cache size to
 * tile by) falls back to one scores buffer, where the unfused chain makes
 * four (MatMul, Mul, Add, Softmax). A padded-patch mask therefore goes
 * through an `If`: when every patch is valid (what the runtime sends) the
 * kernel runs without it.
 *
 * `unfused` is the published exports' form: three linears, Transpose, MatMul,
 * scale, additive key bias, Softmax, MatMul.
 *
 * Weights are drawn per projection (`attn.q`, …) in both forms, the names the
 * references and checkpoints use.
 *
 * @module
 */
import type { EncoderSpec } from "../../spec/types.ts";
import { float } from "../onnx_graph.ts";
import type { WeightTensor } from "../seeded_weights.ts";
import {
  concatOutputs,
  floatWeight,
  type LayerContext,
  linear,
  matmul,
  reshape,
  transpose,
} from "./ops.ts";

/** Which attention graph the vision tower gets (see the module doc). */
export type VisionAttention = "fused" | "unfused";

/** Every {@linkcode VisionAttention}. */
export const VISION_ATTENTIONS: readonly VisionAttention[] = ["fused", "unfused"];

/** The additive score of a masked key: float32's lowest, as the published exports use. */
const MASKED = -3.4028234663852886e38;

/** The padded-patch mask in the form one attention form reads, made once per tower. */
export type KeyMask =
  /** Unfused: [N, 1, 1, S] float, 0 for valid keys and {@linkcode MASKED} for padding. */
  | { form: "unfused"; bias: string }
  /** Fused: `key_padding_mask` int32 [N, S] (1 valid) and a bool scalar, every key valid. */
  | { form: "fused"; padding: string; allValid: string };

/** The mask for `form` from patch validity `valid`, bool [N, S]. */
export function keyMask(ctx: LayerContext, valid: string, form: VisionAttention): KeyMask {
  const { g } = ctx;
  if (form === "unfused") {
    const keys = reshape(g, valid, [0, 1, 1, -1]);
    return { form, bias: g.op("Where", [keys, g.scalar(0), g.scalar(MASKED)]) };
  }
  const padding = g.op("Cast", [valid], { to: 6 });
  const allValid = g.op("Cast", [g.op("ReduceMin", [padding], { keepdims: 0 })], { to: 9 });
  return { form, padding, allValid };
}

/** Multi-head self-attention over all S tokens of x [N, S, D] in `form`; returns [N, S, D]. */
export function vitAttention(
  ctx: LayerContext,
  x: string,
  name: string,
  spec: EncoderSpec,
  form: VisionAttention,
  mask?: KeyMask,
): string {
  if (mask && mask.form !== form) {
    throw new Error(`vitAttention: a ${mask.form} mask given to the ${form} form`);
  }
  return ctx.g.scope(
    "attn",
    () =>
      mask?.form === "unfused" || (!mask && form === "unfused")
        ? unfused(ctx, x, name, spec, mask?.bias)
        : fused(ctx, x, name, spec, mask?.form === "fused" ? mask : undefined),
  );
}

function unfused(
  ctx: LayerContext,
  x: string,
  name: string,
  spec: EncoderSpec,
  keyBias?: string,
): string {
  const { g } = ctx;
  const d = spec.hidden;
  const headDim = d / spec.heads;
  const heads = (value: string) => reshape(g, value, [0, 0, spec.heads, headDim]); // [N,S,h,hd]
  const q = transpose(g, heads(linear(ctx, x, `${name}.q`, d, d, { bias: true })), [0, 2, 1, 3]);
  const k = transpose(g, heads(linear(ctx, x, `${name}.k`, d, d, { bias: true })), [0, 2, 3, 1]);
  const v = transpose(g, heads(linear(ctx, x, `${name}.v`, d, d, { bias: true })), [0, 2, 1, 3]);
  let scores = g.op("Mul", [g.op("MatMul", [q, k]), g.scalar(1 / Math.sqrt(headDim))]); // [N,h,S,S]
  if (keyBias) scores = g.op("Add", [scores, keyBias]);
  const context = g.op("MatMul", [g.op("Softmax", [scores], { axis: -1 }), v]); // [N,h,S,hd]
  const merged = reshape(g, transpose(g, context, [0, 2, 1, 3]), [0, 0, d]); // [N,S,D]
  return linear(ctx, merged, `${name}.out`, d, d, { bias: true });
}

/** `parts` end to end. */
function concatVectors(parts: WeightTensor[]): WeightTensor {
  const data = new Float32Array(parts.reduce((sum, p) => sum + p.data.length, 0));
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { dims: [data.length], data };
}

function fused(
  ctx: LayerContext,
  x: string,
  name: string,
  spec: EncoderSpec,
  mask?: { padding: string; allValid: string },
): string {
  const { g, w } = ctx;
  const d = spec.hidden;
  const weights: WeightTensor[] = [];
  const biases: WeightTensor[] = [];
  for (const part of ["q", "k", "v"]) {
    weights.push(w.matrix(`${name}.${part}.weight`, d, d));
    biases.push(w.bias(`${name}.${part}.bias`, d));
  }
  const qkv = matmul(ctx, x, `${name}.qkv.weight`, concatOutputs(weights)); // [N,S,3D]
  const bias = floatWeight(g, `${name}.qkv.bias`, concatVectors(biases));
  // The CPU kernel reads Q, K and V as separate [N,S,D] inputs (packed QKV is not implemented).
  const [q, k, v] = g.ops("Split", [qkv, g.ints([d, d, d])], { axis: -1 }, {}, 3);
  const attrs = {
    num_heads: spec.heads,
    scale: float(1 / Math.sqrt(d / spec.heads)),
    mask_filter_value: float(MASKED),
  };
  const attend = (inputs: string[]) => (b: typeof g) => [{
    value: b.op("MultiHeadAttention", inputs, attrs, { domain: "com.microsoft" }),
    type: "float32" as const,
  }];
  let context: string;
  if (!mask) context = attend([q, k, v, bias])(g)[0].value;
  else {
    // A mask input keeps the kernel off its flash path: pass it only when a key is padding.
    context = g.op("If", [mask.allValid], {
      then_branch: g.subgraph("all_valid", attend([q, k, v, bias])),
      else_branch: g.subgraph("padded", attend([q, k, v, bias, mask.padding])),
    });
  }
  return linear(ctx, context, `${name}.out`, d, d, { bias: true });
}
