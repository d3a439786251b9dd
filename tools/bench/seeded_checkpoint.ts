/**
 * A synthesized model's weights written back out as a transformers-style
 * safetensors checkpoint (the inverse of the family's name map, torch
 * layouts), so a conversion can be compared with the synthesis it came from,
 * and the convert benchmark has a full-size checkpoint to read.
 *
 * @module
 */
import {
  encodeHeader,
  encodeSafetensors,
  type SafetensorsTensor,
} from "../../src/build/checkpoint/safetensors_header.ts";
import { transposeMatrix } from "../../src/build/checkpoint/checkpoint_weights.ts";
import type { Synthesis } from "../../src/build/synthesize.ts";
import { familyOf } from "../../src/families/registry.ts";
import { f32ToBf16 } from "../../src/build/checkpoint/float_formats.ts";

/** Builder names whose 2-D tensors keep torch's layout (not Linear weights). */
const NOT_MATRICES = new Set(["position", "embed.weight"]);
/** Checkpoint names of 1×1 convolutions (stored `[out, in, 1, 1]`). */
const CONV_1X1 = /\.mb_block\.\d+\.block\.(1\.fc[12]|2\.0)\.weight$/;

/** Checkpoint name → torch-layout float32 tensor, for every weight the synthesis used. */
export function checkpointTensors(
  synthesis: Synthesis,
): Map<string, { dims: number[]; data: Float32Array }> {
  const names = familyOf(synthesis.spec).checkpoint;
  const vision = [
    names.vision.builderNames!,
    names.projector[synthesis.spec.projector.kind]!.builderNames!,
  ];
  const text = [names.text.builderNames!, names.head.builderNames!];
  const out = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const [module, weights] of Object.entries(synthesis.weights)) {
    // Module files of the vision side hold the vision and projector parts; the others the text.
    const maps = /vision|encoder|projector/.test(module) ? vision : text;
    for (const [builder, tensor] of weights) {
      let target: string | undefined;
      for (const map of maps) {
        for (const [pattern, name] of Object.entries(map)) {
          const match = new RegExp(`^${pattern.replace(/\./g, "\\.").replace("{i}", "(\\d+)")}$`)
            .exec(builder);
          if (match) target = name.replace("{i}", match[1] ?? "");
        }
      }
      if (!target) throw new Error(`no checkpoint name for ${builder}`);
      const matrix = tensor.dims.length === 2 && !NOT_MATRICES.has(builder);
      const stored = matrix ? transposeMatrix(tensor) : tensor;
      // MobileVLM's squeeze-excite and pointwise layers are 1×1 Conv2d in the checkpoint.
      if (matrix && CONV_1X1.test(target)) stored.dims = [...stored.dims, 1, 1];
      out.set(target, stored);
    }
  }
  return out;
}

/** Encodes tensors as F32 or BF16 safetensors entries. */
export function toEntries(
  tensors: Map<string, { dims: number[]; data: Float32Array }>,
  dtype: "F32" | "BF16" = "F32",
  prefix = "",
): SafetensorsTensor[] {
  return [...tensors].map(([name, t]) => ({
    name: prefix + name,
    dtype,
    shape: t.dims,
    bytes: dtype === "F32"
      ? new Uint8Array(t.data.slice().buffer)
      : new Uint8Array(f32ToBf16(t.data).buffer),
  }));
}

/** Writes tensors as one BF16 or F32 file, converting one tensor at a time. */
export async function streamCheckpoint(
  path: string,
  tensors: Map<string, { dims: number[]; data: Float32Array }>,
  dtype: "F32" | "BF16",
): Promise<number> {
  const heads = [...tensors].map(([name, t]) => ({ name, dtype, shape: t.dims }));
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const write = async (bytes: Uint8Array) => {
      for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
    };
    const header = encodeHeader(heads);
    let total = header.length;
    await write(header);
    for (const t of tensors.values()) {
      const bytes = dtype === "F32"
        ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
        : new Uint8Array(f32ToBf16(t.data).buffer);
      await write(bytes);
      total += bytes.length;
    }
    return total;
  } finally {
    file.close();
  }
}

/** Writes `entries` as one file, or as shards with an index when `shards` > 1. */
export async function writeCheckpoint(
  dir: string,
  entries: SafetensorsTensor[],
  shards = 1,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  if (shards === 1) {
    await Deno.writeFile(`${dir}/model.safetensors`, encodeSafetensors(entries));
    return;
  }
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(entries.length / shards);
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, "0")}-of-${
      String(shards).padStart(5, "0")
    }.safetensors`;
    const part = entries.slice(s * per, (s + 1) * per);
    for (const e of part) weightMap[e.name] = file;
    await Deno.writeFile(`${dir}/${file}`, encodeSafetensors(part));
  }
  await Deno.writeTextFile(
    `${dir}/model.safetensors.index.json`,
    JSON.stringify({ metadata: {}, weight_map: weightMap }),
  );
}
