/**
 * The protobuf field walk over random-access bytes (a file read at
 * positions, or bytes in memory). It reads field headers and small messages,
 * and reports where a large length-delimited field lies without reading it,
 * so a 100 MB tensor inside an ONNX file is located, not loaded.
 *
 * @module
 */
import { fieldAt, varints, WIRE, WireError, type WireField } from "./protobuf_wire.ts";

/** Bytes readable at positions. */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /** `length` bytes from `position` (a view or a fresh buffer; the caller must not keep a view). */
  read(position: number, length: number): Uint8Array;
}

/** A {@linkcode ByteSource} over bytes already in memory. */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read: (position, length) => bytes.subarray(position, position + length),
  };
}

/**
 * A copy of `view` in a buffer of its own, aligned at 0. (`slice` would not
 * do: on a Node `Buffer` it returns a view into the shared pool.)
 */
export function copyBytes(view: Uint8Array): Uint8Array {
  const out = new Uint8Array(view.byteLength);
  out.set(view);
  return out;
}

/** Bytes read from the source at a time. */
const WINDOW = 64 * 1024;
/** A field's header (tag and length, ten bytes each at most) is read whole. */
const HEADER = 20;

/**
 * Walks the fields of the message in `[start, end)` of `source`. Positions in
 * the fields it returns are positions in the source.
 */
export class WireReader {
  readonly #source: ByteSource;
  #pos: number;
  readonly #end: number;
  #window: Uint8Array = new Uint8Array(0);
  #windowStart = 0;

  /** A reader of the message in `[start, end)` (default: the whole source). */
  constructor(source: ByteSource, start = 0, end = source.size) {
    if (end > source.size) {
      throw new WireError(`a message ends at byte ${end}, past the end (${source.size} bytes)`);
    }
    this.#source = source;
    this.#pos = start;
    this.#end = end;
  }

  /** The next field, or `undefined` at the end of the message. */
  next(): WireField | undefined {
    if (this.#pos >= this.#end) return undefined;
    const windowEnd = this.#windowStart + this.#window.length;
    if (
      this.#pos < this.#windowStart ||
      this.#pos + Math.min(HEADER, this.#end - this.#pos) > windowEnd
    ) {
      this.#window = this.#source.read(this.#pos, Math.min(WINDOW, this.#end - this.#pos));
      this.#windowStart = this.#pos;
      if (this.#window.length === 0) throw new WireError(`no bytes at ${this.#pos}`);
    }
    const base = this.#windowStart;
    const f = fieldAt(this.#window, this.#pos - base, this.#end - base);
    this.#pos = f.end + base;
    return {
      field: f.field,
      wireType: f.wireType,
      varint: f.varint,
      start: f.start + base,
      end: f.end + base,
      valueStart: f.valueStart + base,
      valueEnd: f.valueEnd + base,
    };
  }

  /** The payload of a length-delimited or fixed field (read now; keep only small ones). */
  bytes(f: WireField): Uint8Array {
    return copyBytes(this.#source.read(f.valueStart, f.valueEnd - f.valueStart));
  }

  /** A reader of the embedded message in field `f`. */
  message(f: WireField): WireReader {
    return new WireReader(this.#source, f.valueStart, f.valueEnd);
  }

  /** A UTF-8 string field. */
  string(f: WireField): string {
    return new TextDecoder().decode(this.bytes(f));
  }

  /** The integers of a repeated varint field: one value, or a packed run. */
  varints(f: WireField): bigint[] {
    if (f.wireType === WIRE.varint) return [f.varint];
    const payload = this.bytes(f);
    return varints(payload, { ...f, valueStart: 0, valueEnd: payload.length });
  }
}
