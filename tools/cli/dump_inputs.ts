/**
 * `--dump-inputs DIR`: the exact tensors a request feeds the model, as raw
 * little-endian files plus `shapes.json`, for replaying in another runtime.
 * Each file is written to a temporary name and renamed, so an interrupted
 * dump never leaves a truncated file under the final name.
 *
 * @module
 */
import type { PreparedInputs } from "../../src/runtime/model.ts";
import { writeFileAtomically as writeAtomic } from "./atomic_file.ts";

function littleEndianBytes(view: BigInt64Array | Float32Array): Uint8Array {
  // Typed arrays are in platform order; every supported platform is little-endian, checked here.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error("big-endian platforms are not supported by --dump-inputs");
  }
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Writes `input_ids.bin`, `pixel_values.bin`, `pixel_attention_mask.bin` and `shapes.json`. */
export async function dumpInputs(dir: string, inputs: PreparedInputs): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const { tiles, tileSize: T } = inputs;
  const ids = BigInt64Array.from(inputs.inputIds, BigInt);
  await writeAtomic(`${dir}/input_ids.bin`, littleEndianBytes(ids));
  await writeAtomic(`${dir}/pixel_values.bin`, littleEndianBytes(inputs.pixelValues));
  await writeAtomic(`${dir}/pixel_attention_mask.bin`, new Uint8Array(tiles * T * T).fill(1));
  const shapes = {
    input_ids: [1, ids.length],
    pixel_values: [1, tiles, 3, T, T],
    pixel_attention_mask: [1, tiles, T, T],
    images: inputs.plans.map((p) => ({ rows: p.rows, cols: p.cols, tiles: p.tiles })),
  };
  await writeAtomic(
    `${dir}/shapes.json`,
    new TextEncoder().encode(JSON.stringify(shapes, null, 2) + "\n"),
  );
}
