/**
 * MobileVLM V1's lightweight downsample projector (LDP): the two-layer MLP,
 * then two MobileNetV3 inverted-residual blocks without expansion — depthwise
 * 3×3 conv, channel LayerNorm, Hardswish, squeeze-excite, pointwise conv,
 * channel LayerNorm — the first with stride 1 and a residual, the second with
 * stride 2 (24×24 → 12×12, so 576 → 144 tokens).
 *
 * @module
 */
import { makeDivisible } from "../../tokens/params.ts";
import { twoLayerGeluMlp } from "./mlp_projector.ts";
import {
  activate,
  floatWeight,
  type LayerContext,
  layerNorm,
  linear,
  matmul,
  reshape,
  transpose,
} from "./ops.ts";

/** LayerNorm epsilon of the channel norms (timm LayerNorm2d as configured by MobileVLM). */
const CHANNEL_NORM_EPS = 1e-5;

/** Depthwise 3×3 conv, padding 1, on NCHW `x` with `name.weight` [C, 1, 3, 3]. */
export function depthwiseConv(
  ctx: LayerContext,
  x: string,
  name: string,
  channels: number,
  stride: number,
  bias: boolean,
): string {
  const { g, w } = ctx;
  const inputs = [
    x,
    floatWeight(g, `${name}.weight`, w.normal(`${name}.weight`, [channels, 1, 3, 3], 1 / 3)),
  ];
  if (bias) inputs.push(floatWeight(g, `${name}.bias`, w.bias(`${name}.bias`, channels)));
  return g.op("Conv", inputs, {
    group: channels,
    kernel_shape: [3, 3],
    pads: [1, 1, 1, 1],
    strides: [stride, stride],
  });
}

/** Squeeze-excite on NHWC `x`: channel means → fc1 → ReLU → fc2 → Hardsigmoid → rescale. */
function squeezeExcite(ctx: LayerContext, x: string, name: string, channels: number): string {
  const { g } = ctx;
  const squeeze = makeDivisible(channels / 4);
  const pooled = g.op("ReduceMean", [x], { axes: [1, 2], keepdims: 1 }); // [N,1,1,C]
  const fc1 = activate(
    g,
    linear(ctx, pooled, `${name}.fc1`, channels, squeeze, { bias: true }),
    "relu",
  );
  const gate = activate(
    g,
    linear(ctx, fc1, `${name}.fc2`, squeeze, channels, { bias: true }),
    "hardsigmoid",
  );
  return g.op("Mul", [x, gate]);
}

/** One inverted-residual block on NCHW `x` [N, C, s, s]; returns NCHW. */
function invertedResidual(
  ctx: LayerContext,
  x: string,
  index: number,
  channels: number,
  stride: number,
): string {
  const { g, w } = ctx;
  const name = `blocks.${index}`;
  return g.scope(name, () => {
    const dw = depthwiseConv(ctx, x, `${name}.dw`, channels, stride, false);
    const nhwc = transpose(g, dw, [0, 2, 3, 1]);
    const act = activate(
      g,
      layerNorm(ctx, nhwc, `${name}.norm1`, channels, CHANNEL_NORM_EPS),
      "hardswish",
    );
    const excited = squeezeExcite(ctx, act, `${name}.se`, channels);
    const pw = matmul(
      ctx,
      excited,
      `${name}.pw.weight`,
      w.matrix(`${name}.pw.weight`, channels, channels),
    );
    const out = transpose(g, layerNorm(ctx, pw, `${name}.norm2`, channels, CHANNEL_NORM_EPS), [
      0,
      3,
      1,
      2,
    ]);
    return stride === 1 ? g.op("Add", [x, out]) : out;
  });
}

/** Tokens [N, side², C] (token = row·side + col) → a channels-first image [N, C, side, side]. */
export function tokensToImage(
  ctx: LayerContext,
  x: string,
  channels: number,
  side: number,
): string {
  return reshape(ctx.g, transpose(ctx.g, x, [0, 2, 1]), [0, channels, side, side]);
}

/** A channels-first image [N, C, h, w] → tokens [N, h·w, C], row-major. */
export function imageToTokens(ctx: LayerContext, x: string, channels: number): string {
  return transpose(ctx.g, reshape(ctx.g, x, [0, channels, -1]), [0, 2, 1]);
}

/** features [N, side², D] → image tokens [N, (side/2)², H]. */
export function ldpProjector(
  ctx: LayerContext,
  x: string,
  side: number,
  inDim: number,
  hidden: number,
): string {
  const { g } = ctx;
  return g.scope("projector", () => {
    const mlp = twoLayerGeluMlp(ctx, x, inDim, hidden); // [N,P,H]
    const image = tokensToImage(ctx, mlp, hidden, side);
    const downsampled = invertedResidual(
      ctx,
      invertedResidual(ctx, image, 0, hidden, 1),
      1,
      hidden,
      2,
    );
    return imageToTokens(ctx, downsampled, hidden);
  });
}
