/**
 * A GGUF (version 3) file writer: the container llama.cpp loads. Layout:
 * magic, version, tensor and key counts, the key/value metadata, the tensor
 * infos (dimensions innermost first, ggml type, offset into the data
 * section), padding to the alignment, then each tensor's bytes, aligned.
 *
 * @module
 */

/** ggml tensor types this writer stores. */
export const GgmlType = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8 } as const;
/** A ggml tensor type id. */
export type GgmlType = typeof GgmlType[keyof typeof GgmlType];

/** A metadata value: typed explicitly where GGUF distinguishes integer widths. */
export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "strings"; value: readonly string[] }
  | { type: "i32s"; value: Int32Array };

/** One tensor: `dims` innermost first (ggml's ne0, ne1, …), `data` already in `type`'s encoding. */
export interface GgufTensor {
  /** llama.cpp's tensor name, e.g. `blk.0.attn_q.weight`. */
  name: string;
  /** ne0 (row length) first. */
  dims: number[];
  /** Storage type. */
  type: GgmlType;
  /** Encoded bytes. */
  data: Uint8Array;
}

const ALIGNMENT = 32;
const VALUE_TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;

/** Growable little-endian byte sink for the header. */
class HeaderBytes {
  #chunks: Uint8Array[] = [];
  length = 0;

  #push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.length += bytes.length;
  }
  #fixed(size: number, write: (view: DataView) => void): void {
    const bytes = new Uint8Array(size);
    write(new DataView(bytes.buffer));
    this.#push(bytes);
  }
  u32(v: number): void {
    this.#fixed(4, (d) => d.setUint32(0, v, true));
  }
  i32(v: number): void {
    this.#fixed(4, (d) => d.setInt32(0, v, true));
  }
  u64(v: number): void {
    this.#fixed(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }
  f32(v: number): void {
    this.#fixed(4, (d) => d.setFloat32(0, v, true));
  }
  u8(v: number): void {
    this.#push(Uint8Array.of(v));
  }
  string(text: string): void {
    const bytes = new TextEncoder().encode(text);
    this.u64(bytes.length);
    this.#push(bytes);
  }
  raw(bytes: Uint8Array): void {
    this.#push(bytes);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

function writeValue(out: HeaderBytes, value: GgufValue): void {
  switch (value.type) {
    case "u32":
      out.u32(VALUE_TYPE.u32);
      return out.u32(value.value);
    case "i32":
      out.u32(VALUE_TYPE.i32);
      return out.i32(value.value);
    case "f32":
      out.u32(VALUE_TYPE.f32);
      return out.f32(value.value);
    case "bool":
      out.u32(VALUE_TYPE.bool);
      return out.u8(value.value ? 1 : 0);
    case "string":
      out.u32(VALUE_TYPE.string);
      return out.string(value.value);
    case "strings":
      out.u32(VALUE_TYPE.array);
      out.u32(VALUE_TYPE.string);
      out.u64(value.value.length);
      for (const s of value.value) out.string(s);
      return;
    case "i32s":
      out.u32(VALUE_TYPE.array);
      out.u32(VALUE_TYPE.i32);
      out.u64(value.value.length);
      return out.raw(
        new Uint8Array(value.value.buffer, value.value.byteOffset, value.value.byteLength),
      );
  }
}

const padding = (length: number) => (ALIGNMENT - (length % ALIGNMENT)) % ALIGNMENT;

/** Encodes a GGUF file as a list of chunks (header, then each tensor and its padding). */
export function encodeGguf(
  metadata: ReadonlyMap<string, GgufValue>,
  tensors: readonly GgufTensor[],
): Uint8Array[] {
  const header = new HeaderBytes();
  header.raw(new TextEncoder().encode("GGUF"));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(metadata.size);
  for (const [key, value] of metadata) {
    header.string(key);
    writeValue(header, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const d of tensor.dims) header.u64(d);
    header.u32(tensor.type);
    header.u64(offset);
    offset += tensor.data.length + padding(tensor.data.length);
  }
  const chunks = [header.bytes(), new Uint8Array(padding(header.length))];
  for (const tensor of tensors) {
    chunks.push(tensor.data, new Uint8Array(padding(tensor.data.length)));
  }
  return chunks;
}
