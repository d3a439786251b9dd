/**
 * A minimal protobuf wire-format walker over random-access bytes (a file read
 * at positions, or bytes in memory). It reads field headers and small
 * messages, and reports where a large length-delimited field lies without
 * reading it, so a 100 MB tensor inside an ONNX file is located, not loaded.
 * The runtime uses it instead of protobufjs, which stays out of the edge bundle.
 *
 * @module
 */

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

/** Thrown when the bytes are not a well-formed message; the caller words the user's error. */
export class WireError extends Error {
  /** Names the problem and where it was found. */
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

/** One field of a message: its number and wire type, and its value or its byte range. */
export interface WireField {
  /** Field number. */
  readonly field: number;
  /** 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
  readonly wireType: number;
  /** The varint value (wire type 0), as a 64-bit two's-complement bigint. */
  readonly varint: bigint;
  /** Where the value's bytes start (wire types 1, 2 and 5). */
  readonly start: number;
  /** Where they end. */
  readonly end: number;
}

const WINDOW = 64 * 1024;

/** Walks the fields of the message in `[start, end)` of `source`. */
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

  #byte(): number {
    const at = this.#pos - this.#windowStart;
    if (at < 0 || at >= this.#window.length) {
      if (this.#pos >= this.#end) throw new WireError(`a field runs past byte ${this.#end}`);
      const length = Math.min(WINDOW, this.#end - this.#pos);
      this.#window = this.#source.read(this.#pos, length);
      this.#windowStart = this.#pos;
      if (this.#window.length === 0) throw new WireError(`no bytes at ${this.#pos}`);
    }
    this.#pos++;
    return this.#window[this.#pos - 1 - this.#windowStart];
  }

  #varint(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.#byte();
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asIntN(64, value);
    }
    throw new WireError(`a varint at byte ${this.#pos} is longer than 10 bytes`);
  }

  /** The next field, or `undefined` at the end of the message. */
  next(): WireField | undefined {
    if (this.#pos >= this.#end) return undefined;
    const key = Number(BigInt.asUintN(64, this.#varint()));
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (field === 0) throw new WireError(`field number 0 at byte ${this.#pos}`);
    let varint = 0n;
    let start = this.#pos;
    if (wireType === 0) {
      varint = this.#varint();
      start = this.#pos;
    } else if (wireType === 1 || wireType === 5) {
      this.#pos += wireType === 1 ? 8 : 4;
    } else if (wireType === 2) {
      const length = Number(this.#varint());
      start = this.#pos;
      if (length < 0 || start + length > this.#end) {
        throw new WireError(`field ${field} at byte ${start} runs past byte ${this.#end}`);
      }
      this.#pos = start + length;
    } else {
      throw new WireError(`unsupported wire type ${wireType} at byte ${start}`);
    }
    if (this.#pos > this.#end) throw new WireError(`field ${field} runs past byte ${this.#end}`);
    return { field, wireType, varint, start, end: this.#pos };
  }

  /** The bytes of a length-delimited or fixed field (read now; keep only small ones). */
  bytes(f: WireField): Uint8Array {
    return copyBytes(this.#source.read(f.start, f.end - f.start));
  }

  /** A reader of the embedded message in field `f`. */
  message(f: WireField): WireReader {
    return new WireReader(this.#source, f.start, f.end);
  }

  /** A UTF-8 string field. */
  string(f: WireField): string {
    return new TextDecoder().decode(this.bytes(f));
  }

  /** The integers of a repeated varint field: one value, or a packed run. */
  varints(f: WireField): bigint[] {
    if (f.wireType === 0) return [f.varint];
    const packed = new WireReader(memorySource(this.bytes(f)));
    const out: bigint[] = [];
    while (packed.#pos < packed.#end) out.push(packed.#varint());
    return out;
  }
}
