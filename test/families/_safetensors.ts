// A minimal safetensors reader for the committed MobileVLM fixtures (tests only: the shipped
// reader belongs to the converter). Format: u64 LE header length, JSON header, raw LE data.

/** One tensor's header entry. */
export interface TensorEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** A parsed file: header entries by name, and the data section. */
export interface SafetensorsFile {
  entries: Map<string, TensorEntry>;
  data: Uint8Array;
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I64: 8 };

/** Reads and checks a safetensors file: known dtypes, contiguous data covering the file. */
export function readSafetensors(path: string): SafetensorsFile {
  const bytes = Deno.readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const data = bytes.subarray(8 + headerLength);
  const entries = new Map<string, TensorEntry>();
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const e = entry as TensorEntry;
    const size = DTYPE_BYTES[e.dtype];
    if (!size) throw new Error(`${path}: ${name} has unexpected dtype ${e.dtype}`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (e.data_offsets[1] - e.data_offsets[0] !== count * size) {
      throw new Error(`${path}: ${name} spans ${e.data_offsets} for ${count} × ${e.dtype}`);
    }
    entries.set(name, e);
    spans.push([...e.data_offsets, name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let end = 0;
  for (const [start, stop, name] of spans) {
    if (start !== end) throw new Error(`${path}: ${name} starts at ${start}, expected ${end}`);
    end = stop;
  }
  if (end !== data.length) throw new Error(`${path}: data ends at ${end} of ${data.length}`);
  return { entries, data };
}

/** float16 bits → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** A tensor's values widened to float32 (F32, F16, BF16) or to numbers (I64). */
export function tensorValues(file: SafetensorsFile, name: string): Float32Array | number[] {
  const e = file.entries.get(name);
  if (!e) throw new Error(`no tensor ${name}`);
  const raw = file.data.slice(e.data_offsets[0], e.data_offsets[1]);
  const view = new DataView(raw.buffer);
  const count = e.shape.reduce((a, b) => a * b, 1);
  switch (e.dtype) {
    case "F32":
      return new Float32Array(raw.buffer);
    case "F16":
      return Float32Array.from(
        { length: count },
        (_, i) => halfToFloat(view.getUint16(2 * i, true)),
      );
    case "BF16": {
      // bfloat16 is the top half of a float32.
      const widened = new Uint32Array(count);
      for (let i = 0; i < count; i++) widened[i] = view.getUint16(2 * i, true) << 16;
      return new Float32Array(widened.buffer);
    }
    case "I64":
      return Array.from({ length: count }, (_, i) => Number(view.getBigInt64(8 * i, true)));
  }
  throw new Error(`${name}: dtype ${e.dtype}`);
}
