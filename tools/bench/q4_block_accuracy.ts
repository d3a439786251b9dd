/**
 * How far the seeded SmolVLM-256M decoder's logits move from fp32's when its
 * matmuls are stored as q4 (MatMulNBits) in blocks of 16–128 rows: what a
 * larger (faster at prefill) block costs in accuracy. One prefill of
 * `--steps` random embeddings (default 64) with an empty cache, every
 * position's logits, on native; the distances are max |Δ| / max |fp32| (the
 * builder tests' measure) and RMS(Δ) / RMS(fp32), beside the dequantized
 * weights' RMS error relative to the weights'.
 *
 *   deno run -A tools/bench/q4_block_accuracy.ts [--scale test|full] [--blocks 32,64,128]
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { languageGraphs } from "../../src/build/module_graphs.ts";
import type { WeightFormat } from "../../src/build/layers/ops.ts";
import { serializeModel } from "../../src/build/onnx_file.ts";
import { dequantizeQ4, quantizeQ4 } from "../../src/build/quantize.ts";
import { type BuildScale, scaledSpec } from "../../src/build/test_scale.ts";
import { seededRandom } from "../../src/runtime/rng.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { getPreset } from "../../variants/mod.ts";

const args = Deno.args;
const flag = (name: string) => args.includes(name) ? args[args.indexOf(name) + 1] : undefined;
const scale = (flag("--scale") ?? "full") as BuildScale;
const blocks = (flag("--blocks") ?? "16,32,64,128").split(",").map(Number);
const steps = Number(flag("--steps") ?? 64);

const plan = resolve(scaledSpec(getPreset("smolvlm-256m-instruct"), scale));
const spec = plan.spec.decoder;

function decoder(format: WeightFormat, q4Block?: number) {
  const { decoder } = languageGraphs(
    plan,
    { seed: 0, format, logits: "all", q4Block },
    "decoder_model_merged",
  );
  return { bytes: serializeModel(decoder.graph.toModel()).model, weights: decoder.weights };
}

async function logits(bytes: Uint8Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
  try {
    const random = seededRandom(7);
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor(
        "float32",
        Float32Array.from({ length: steps * spec.hidden }, () => random() * 2 - 1),
        [1, steps, spec.hidden],
      ),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(steps).fill(1n), [1, steps]),
      position_ids: new ort.Tensor(
        "int64",
        BigInt64Array.from({ length: steps }, (_, i) => BigInt(i)),
        [1, steps],
      ),
    };
    for (let i = 0; i < spec.layers; i++) {
      for (const kind of ["key", "value"]) {
        feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor("float32", new Float32Array(0), [
          1,
          spec.kvHeads,
          0,
          spec.headDim,
        ]);
      }
    }
    return (await session.run(feeds)).logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

const rms = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s / a.length);
};

const fp32 = decoder("fp32");
const reference = await logits(fp32.bytes);
const refMax = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const refRms = rms(reference);
// Weight error over the decoder's matmul weights (2-D tensors of the layers).
const matrices = [...fp32.weights.entries()].filter(([name, t]) =>
  name.startsWith("layers.") && t.dims.length === 2
);

console.log(
  `SmolVLM-256M decoder (${scale}, ${spec.layers} layers), ${steps}-token prefill, native; ` +
    `load ${Deno.loadavg().map((v) => v.toFixed(2))}`,
);
console.log("q4 block  max|Δ|/max|fp32|  RMS Δ/RMS fp32  weight RMS err");
for (const block of blocks) {
  const out = await logits(decoder("q4", block).bytes);
  let maxDiff = 0;
  const diff = new Float32Array(out.length);
  for (let i = 0; i < out.length; i++) {
    diff[i] = out[i] - reference[i];
    maxDiff = Math.max(maxDiff, Math.abs(diff[i]));
  }
  let errSq = 0;
  let refSq = 0;
  for (const [, t] of matrices) {
    const back = dequantizeQ4(quantizeQ4(t, block));
    for (let i = 0; i < back.length; i++) {
      errSq += (back[i] - t.data[i]) ** 2;
      refSq += t.data[i] ** 2;
    }
  }
  console.log(
    `${String(block).padStart(8)}  ${(maxDiff / refMax).toFixed(4).padStart(16)}  ` +
      `${(rms(diff) / refRms).toFixed(4).padStart(14)}  ${
        Math.sqrt(errSq / refSq).toFixed(4).padStart(14)
      }`,
  );
}
