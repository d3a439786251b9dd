/**
 * The protobuf wire format, just enough to walk an ONNX model's messages and
 * write new ones: the runtime rewrites graph bytes before a session opens and
 * must not pull a protobuf library (protobufjs) into the edge bundle.
 *
 * @module
 */

/** Wire types used by ONNX messages. */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** One field of a message, located in the message's bytes. */
export interface WireField {
  /** Field number. */
  field: number;
  /** Wire type (see {@linkcode WIRE}). */
  wireType: number;
  /** Where the field (its tag) starts. */
  start: number;
  /** Where the field ends. */
  end: number;
  /** Varint value (wire type 0), as a bigint so int64 survives. */
  varint: bigint;
  /** Payload bounds of a length-delimited (or fixed) field. */
  valueStart: number;
  /** End of the payload. */
  valueEnd: number;
}

/** Thrown on bytes that are not a well-formed protobuf message. */
export class WireError extends Error {}

function readVarint(bytes: Uint8Array, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < bytes.length && shift < 70n; i++) {
    const b = bytes[i];
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [value, i + 1];
    shift += 7n;
  }
  throw new WireError(`truncated varint at byte ${at}`);
}

/** The fields of the message in `bytes[start, end)`, in order. */
export function* fields(bytes: Uint8Array, start = 0, end = bytes.length): Generator<WireField> {
  let at = start;
  while (at < end) {
    const fieldStart = at;
    const [tag, afterTag] = readVarint(bytes, at);
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    let varint = 0n;
    let valueStart = afterTag;
    let valueEnd = afterTag;
    if (wireType === WIRE.varint) {
      [varint, valueEnd] = readVarint(bytes, afterTag);
    } else if (wireType === WIRE.bytes) {
      const [length, after] = readVarint(bytes, afterTag);
      valueStart = after;
      valueEnd = after + Number(length);
    } else if (wireType === WIRE.fixed64) {
      valueEnd = afterTag + 8;
    } else if (wireType === WIRE.fixed32) {
      valueEnd = afterTag + 4;
    } else {
      throw new WireError(`unsupported wire type ${wireType} at byte ${fieldStart}`);
    }
    if (field === 0 || valueEnd > end) {
      throw new WireError(`malformed field at byte ${fieldStart}`);
    }
    at = valueEnd;
    yield { field, wireType, start: fieldStart, end: valueEnd, varint, valueStart, valueEnd };
  }
}

/** Decodes a length-delimited field as UTF-8 text. */
export function text(bytes: Uint8Array, f: WireField): string {
  return new TextDecoder().decode(bytes.subarray(f.valueStart, f.valueEnd));
}

/** The values of a repeated int64 field, packed or not, appended to `out`. */
export function int64s(bytes: Uint8Array, f: WireField, out: number[]): void {
  if (f.wireType === WIRE.varint) {
    out.push(Number(BigInt.asIntN(64, f.varint)));
    return;
  }
  let at = f.valueStart;
  while (at < f.valueEnd) {
    const [v, next] = readVarint(bytes, at);
    out.push(Number(BigInt.asIntN(64, v)));
    at = next;
  }
}

function varintBytes(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** Builds one message from fields, in the order they are added. */
export class MessageWriter {
  readonly #parts: (Uint8Array | LazyBytes)[] = [];
  #length = 0;

  #push(part: Uint8Array | LazyBytes): this {
    this.#parts.push(part);
    this.#length += part.length;
    return this;
  }

  /** A varint field (int32, int64, enum). */
  varint(field: number, value: number | bigint): this {
    return this.#push(Uint8Array.from([...varintBytes(field << 3), ...varintBytes(value)]));
  }

  /**
   * A length-delimited field: bytes, a nested message, or text. Bytes and
   * messages are referenced, not copied, until {@linkcode finish}.
   */
  bytes(field: number, value: Uint8Array | string | MessageWriter): this {
    const payload = typeof value === "string" ? new TextEncoder().encode(value) : value;
    this.#push(Uint8Array.from([...varintBytes((field << 3) | 2), ...varintBytes(payload.length)]));
    if (payload instanceof MessageWriter) {
      for (const part of payload.#parts) this.#push(part);
      return this;
    }
    return this.#push(payload);
  }

  /**
   * A length-delimited field of `length` bytes that `fill` writes straight
   * into the finished message: large payloads then exist once, not once
   * here and again in the message.
   */
  lazyBytes(field: number, length: number, fill: (out: Uint8Array) => void): this {
    this.#push(Uint8Array.from([...varintBytes((field << 3) | 2), ...varintBytes(length)]));
    return this.#push({ length, fill });
  }

  /** Already encoded fields: bytes copied from a source message, or another writer's fields. */
  raw(encoded: Uint8Array | MessageWriter): this {
    if (encoded instanceof MessageWriter) {
      for (const part of encoded.#parts) this.#push(part);
      return this;
    }
    return this.#push(encoded);
  }

  /** Bytes so far. */
  get length(): number {
    return this.#length;
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const only = this.#parts[0];
    if (this.#parts.length === 1 && only instanceof Uint8Array) return only;
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const part of this.#parts) {
      if (part instanceof Uint8Array) out.set(part, at);
      else part.fill(out.subarray(at, at + part.length));
      at += part.length;
    }
    return out;
  }
}

/** Bytes written into the finished message by `fill`. */
interface LazyBytes {
  length: number;
  fill(out: Uint8Array): void;
}
