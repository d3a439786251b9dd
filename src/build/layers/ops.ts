/**
 * Building blocks shared by the layer builders: Linear in every weight
 * format, LayerNorm, RMSNorm, activations and shape helpers. Every helper
 * takes the value name it transforms and returns the name of its result.
 *
 * @module
 */
import type { Activation } from "../../spec/types.ts";
import { float, type GraphBuilder } from "../onnx_graph.ts";
import { float32ToFloat16 } from "../../runtime/float16.ts";
import {
  BNB4_BLOCK,
  BNB4_TYPE,
  MATMUL_INT8_LEVELS,
  Q4_BLOCK,
  quantizeBnb4,
  quantizeInt8,
  quantizeQ4,
  quantizeUint8,
} from "../quantize.ts";
import type { WeightTensor } from "../seeded_weights.ts";
import type { WeightSource } from "../weight_source.ts";

/**
 * How weights are stored, one per published file suffix: float (`fp32`, and
 * `fp16`, whose float weights and boundaries the build turns into float16
 * afterwards), int8 or uint8 per channel with dynamically quantized
 * activations, 4-bit MatMulNBits (`q4`, and `q4f16` with float16 scales and
 * activations), or 4-bit NF4 MatMulBnb4 (`bnb4`).
 */
export type WeightFormat = "fp32" | "fp16" | "int8" | "uint8" | "q4" | "q4f16" | "bnb4";

/** Every {@linkcode WeightFormat}, in the order the CLI lists them. */
export const WEIGHT_FORMATS: readonly WeightFormat[] = [
  "fp32",
  "fp16",
  "int8",
  "uint8",
  "q4",
  "q4f16",
  "bnb4",
];

/**
 * MatMulNBits `accuracy_level` 4: activations are quantized to int8 per block
 * so the CPU kernel runs integer dot products, the fast path on x86 and wasm.
 */
export const Q4_ACCURACY_LEVEL = 4;

/** What every layer builder works with. */
export interface LayerContext {
  /** The graph being written. */
  g: GraphBuilder;
  /** Where weights come from (and are recorded for numerical checks). */
  w: WeightSource;
  /** Storage of matmul weights. */
  format: WeightFormat;
  /** Rows per MatMulNBits block in `q4` / `q4f16` (default {@linkcode Q4_BLOCK}). */
  q4Block?: number;
}

/** Adds a float tensor to the graph as an initializer. */
export function floatWeight(g: GraphBuilder, name: string, tensor: WeightTensor): string {
  return g.weight(name, { type: "float32", dims: tensor.dims, data: tensor.data });
}

/** `x · W` with W `[in, out]` stored in `format`. */
export function matmul(ctx: LayerContext, x: string, name: string, w: WeightTensor): string {
  const { g } = ctx;
  const [k, n] = w.dims;
  switch (ctx.format) {
    case "fp32":
    case "fp16":
      return g.op("MatMul", [x, floatWeight(g, name, w)]);
    case "int8": {
      // Dynamic quantization, the form of the published `_int8` exports: the
      // activations become uint8 (one scale per call), the integer product runs
      // on u8×s8 kernels (VNNI on x86), and one float multiply restores the
      // scale. ORT's CPU optimizer fuses the chain into MatMulIntegerToFloat.
      // Seven-bit weights keep the product exact on CPUs without VNNI.
      const q = quantizeInt8(w, 1, MATMUL_INT8_LEVELS);
      const values = g.weight(
        `${name}_quantized`,
        { type: "int8", dims: w.dims, data: q.values },
        k * n,
      );
      const scales = g.weight(`${name}_scale`, { type: "float32", dims: [n], data: q.scales }, 0);
      const zeros = g.constant("int8", [n], new Int8Array(n));
      const [xq, xScale, xZero] = g.ops("DynamicQuantizeLinear", [x], {}, {}, 3);
      const product = g.op("MatMulInteger", [xq, values, xZero, zeros]);
      const scale = g.op("Mul", [xScale, scales]);
      return g.op("Mul", [g.op("Cast", [product], { to: 1 }), scale]);
    }
    case "uint8": {
      // The `_uint8` exports: the same dynamic chain with u8×u8 products; the
      // weights' zero points go to MatMulInteger, which subtracts them exactly.
      const q = quantizeUint8(w);
      const values = g.weight(
        `${name}_quantized`,
        { type: "uint8", dims: w.dims, data: q.values },
        k * n,
      );
      const scales = g.weight(`${name}_scale`, { type: "float32", dims: [n], data: q.scales }, 0);
      const zeros = g.weight(
        `${name}_zero_point`,
        { type: "uint8", dims: [n], data: q.zeroPoints },
        0,
      );
      const [xq, xScale, xZero] = g.ops("DynamicQuantizeLinear", [x], {}, {}, 3);
      const product = g.op("MatMulInteger", [xq, values, xZero, zeros]);
      const scale = g.op("Mul", [xScale, scales]);
      return g.op("Mul", [g.op("Cast", [product], { to: 1 }), scale]);
    }
    case "bnb4": {
      const q = quantizeBnb4(w, "nf4");
      const packed = g.weight(
        `${name}_Bnb4`,
        { type: "uint8", dims: [q.packed.length], data: q.packed },
        k * n,
      );
      const absmax = g.weight(
        `${name}_absmax`,
        { type: "float32", dims: [q.absmax.length], data: q.absmax },
        0,
      );
      return g.op("MatMulBnb4", [x, packed, absmax], {
        K: k,
        N: n,
        block_size: BNB4_BLOCK,
        quant_type: BNB4_TYPE.nf4,
      }, { domain: "com.microsoft" });
    }
    case "q4":
    case "q4f16":
      return matmulNBits(ctx, x, name, w);
  }
}

/**
 * MatMulNBits q4; in `q4f16` (q4 then the float16 conversion of
 * transformers.js's quantize script) the scales are float16 and the kernel
 * takes and returns float16, cast at its edges from the float32 graph.
 */
function matmulNBits(ctx: LayerContext, x: string, name: string, w: WeightTensor): string {
  const { g } = ctx;
  const [k, n] = w.dims;
  const half = ctx.format === "q4f16";
  const q = quantizeQ4(w, ctx.q4Block ?? Q4_BLOCK);
  const packed = g.weight(
    `${name}_Q4`,
    { type: "uint8", dims: [n, q.blocks, q.block / 2], data: q.packed },
    k * n,
  );
  const scales = g.weight(
    `${name}_scales`,
    half
      ? { type: "float16", dims: [n * q.blocks], data: float32ToFloat16(q.scales) }
      : { type: "float32", dims: [n * q.blocks], data: q.scales },
    0,
  );
  const zeros = g.weight(
    `${name}_zp`,
    { type: "uint8", dims: [q.zeroPoints.length], data: q.zeroPoints },
    0,
  );
  const a = half ? g.op("Cast", [x], { to: 10 }) : x;
  const y = g.op("MatMulNBits", [a, packed, scales, zeros], {
    K: k,
    N: n,
    bits: 4,
    block_size: q.block,
    accuracy_level: Q4_ACCURACY_LEVEL,
  }, { domain: "com.microsoft" });
  return half ? g.op("Cast", [y], { to: 1 }) : y;
}

/**
 * The `[in, Σout]` matrix of `parts` (each `[in, out_i]`) side by side along
 * the output axis. Every weight format quantizes per output column (int8
 * scales, q4 blocks run down one column), so quantizing the concatenation
 * stores exactly the values each part would have on its own.
 */
export function concatOutputs(parts: WeightTensor[]): WeightTensor {
  const rows = parts[0].dims[0];
  for (const p of parts) {
    if (p.dims[0] !== rows) {
      throw new RangeError(`concatOutputs: input dims differ (${p.dims[0]} vs ${rows})`);
    }
  }
  const cols = parts.reduce((sum, p) => sum + p.dims[1], 0);
  const data = new Float32Array(rows * cols);
  let offset = 0;
  for (const p of parts) {
    const n = p.dims[1];
    for (let r = 0; r < rows; r++) {
      data.set(p.data.subarray(r * n, (r + 1) * n), r * cols + offset);
    }
    offset += n;
  }
  return { dims: [rows, cols], data };
}

/** Linear layer `name` (`name.weight` [in, out], optional `name.bias` [out]). */
export function linear(
  ctx: LayerContext,
  x: string,
  name: string,
  inDim: number,
  outDim: number,
  options: { bias: boolean; gain?: number },
): string {
  const weight = ctx.w.matrix(`${name}.weight`, inDim, outDim, options.gain);
  const y = matmul(ctx, x, `${name}.weight`, weight);
  if (!options.bias) return y;
  return ctx.g.op("Add", [
    y,
    floatWeight(ctx.g, `${name}.bias`, ctx.w.bias(`${name}.bias`, outDim)),
  ]);
}

/** LayerNorm over the last axis with `name.weight` and `name.bias`. */
export function layerNorm(
  ctx: LayerContext,
  x: string,
  name: string,
  dim: number,
  eps: number,
): string {
  const { g, w } = ctx;
  const scale = floatWeight(g, `${name}.weight`, w.scale(`${name}.weight`, dim));
  const bias = floatWeight(g, `${name}.bias`, w.bias(`${name}.bias`, dim));
  return g.op("LayerNormalization", [x, scale, bias], { axis: -1, epsilon: float(eps) });
}

/** RMSNorm over the last axis: x / √(mean(x²) + eps) · `name.weight`. */
export function rmsNorm(
  ctx: LayerContext,
  x: string,
  name: string,
  dim: number,
  eps: number,
): string {
  const { g, w } = ctx;
  // Pow(x, 2) rather than Mul(x, x): the form ONNX Runtime's graph optimizer
  // recognises and fuses into one SimplifiedLayerNormalization kernel.
  const meanSquare = g.op("ReduceMean", [g.op("Pow", [x, g.scalar(2)])], {
    axes: [-1],
    keepdims: 1,
  });
  const rms = g.op("Sqrt", [g.op("Add", [meanSquare, g.scalar(eps)])]);
  const scale = floatWeight(g, `${name}.weight`, w.scale(`${name}.weight`, dim));
  return g.op("Mul", [g.op("Div", [x, rms]), scale]);
}

/**
 * The residual sum `x + skip` and its RMSNorm (`name.weight`) in one
 * `com.microsoft` SkipSimplifiedLayerNormalization kernel, which ONNX
 * Runtime's CPU optimizer does not fuse from the Add and the RMSNorm form.
 * `x` and `skip` are [B, S, dim].
 */
export function skipRmsNorm(
  ctx: LayerContext,
  x: string,
  skip: string,
  name: string,
  dim: number,
  eps: number,
): { normed: string; sum: string } {
  const { g, w } = ctx;
  const scale = floatWeight(g, `${name}.weight`, w.scale(`${name}.weight`, dim));
  const [normed, , , sum] = g.ops(
    "SkipSimplifiedLayerNormalization",
    [x, skip, scale],
    { epsilon: float(eps) },
    // The mean and inverse-std outputs stay unnamed, so the kernel skips them.
    { domain: "com.microsoft", outputs: [`${name}/normed`, "", "", `${name}/sum`] },
    4,
  );
  return { normed, sum };
}

/** Every activation the layer builders use. */
export type ActivationKind = Activation | "silu" | "relu" | "hardswish" | "hardsigmoid";

/** Applies an activation elementwise. */
export function activate(g: GraphBuilder, x: string, kind: ActivationKind): string {
  switch (kind) {
    case "gelu-tanh": {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      // Pow(x, 3): the form ONNX Runtime's optimizer fuses into one FastGelu kernel.
      const cube = g.op("Pow", [x, g.scalar(3)]);
      const inner = g.op("Add", [x, g.op("Mul", [cube, g.scalar(0.044715)])]);
      const t = g.op("Tanh", [g.op("Mul", [inner, g.scalar(Math.sqrt(2 / Math.PI))])]);
      return g.op("Mul", [g.op("Mul", [x, g.scalar(0.5)]), g.op("Add", [t, g.scalar(1)])]);
    }
    case "gelu": {
      // 0.5·x·(1 + erf(x/√2))
      const e = g.op("Erf", [g.op("Mul", [x, g.scalar(Math.SQRT1_2)])]);
      return g.op("Mul", [g.op("Mul", [x, g.scalar(0.5)]), g.op("Add", [e, g.scalar(1)])]);
    }
    case "quick-gelu":
      return g.op("Mul", [x, g.op("Sigmoid", [g.op("Mul", [x, g.scalar(1.702)])])]);
    case "silu":
      return g.op("Mul", [x, g.op("Sigmoid", [x])]);
    case "relu":
      return g.op("Relu", [x]);
    case "hardswish":
      return g.op("HardSwish", [x]);
    case "hardsigmoid":
      return g.op("HardSigmoid", [x], { alpha: float(1 / 6), beta: float(0.5) });
  }
}

/** Reshape to `shape` (0 copies the input dim, −1 is inferred). */
export function reshape(g: GraphBuilder, x: string, shape: number[]): string {
  return g.op("Reshape", [x, g.ints(shape)]);
}

/** Transpose by `perm`. */
export function transpose(g: GraphBuilder, x: string, perm: number[]): string {
  return g.op("Transpose", [x], { perm });
}
