/**
 * The protobuf wire format, just enough to walk an ONNX model's messages: the
 * runtime reads and rewrites model bytes without a protobuf library
 * (protobufjs stays out of the edge bundle). Fields are walked here over
 * bytes in memory; `wire_reader.ts` walks them over bytes read at positions
 * with the same {@linkcode fieldAt}, and `message_writer.ts` writes them.
 *
 * @module
 */

/** Wire types used by ONNX messages. */
export enum WIRE {
  varint = 0,
  fixed64 = 1,
  bytes = 2,
  fixed32 = 5,
}

/** One field of a message, located in the message's bytes. */
export interface WireField {
  /** Field number. */
  readonly field: number;
  /** Wire type (see {@linkcode WIRE}). */
  readonly wireType: number;
  /** Where the field (its tag) starts. */
  readonly start: number;
  /** Where the field ends. */
  readonly end: number;
  /** Varint value (wire type 0), as a 64-bit two's-complement bigint so int64 survives. */
  readonly varint: bigint;
  /** Payload bounds of a length-delimited (or fixed) field. */
  readonly valueStart: number;
  /** End of the payload. */
  readonly valueEnd: number;
}

/** Thrown on bytes that are not a well-formed message; the caller words the user's error. */
export class WireError extends Error {
  /** Names the problem and where it was found. */
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

/** The longest varint: ten bytes carry 64 bits. */
const VARINT_MAX = 10;

/**
 * The varint at `bytes[at]`, as a 64-bit two's-complement bigint, and the
 * position after it; it must end before `end`.
 */
export function readVarint(bytes: Uint8Array, at: number, end = bytes.length): [bigint, number] {
  const stop = Math.min(end, bytes.length, at + VARINT_MAX);
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < stop; i++) {
    const b = bytes[i];
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [BigInt.asIntN(64, value), i + 1];
    shift += 7n;
  }
  throw new WireError(
    stop === at + VARINT_MAX
      ? `a varint at byte ${at} is longer than ${VARINT_MAX} bytes`
      : `truncated varint at byte ${at}`,
  );
}

/** The field that starts at `bytes[at]`, in a message that ends at `end`. */
export function fieldAt(bytes: Uint8Array, at: number, end: number): WireField {
  const [tag, afterTag] = readVarint(bytes, at, end);
  const key = BigInt.asUintN(64, tag);
  const field = Number(key >> 3n);
  const wireType = Number(key & 7n);
  if (field === 0) throw new WireError(`field number 0 at byte ${at}`);
  let varint = 0n;
  let valueStart = afterTag;
  let valueEnd = afterTag;
  if (wireType === WIRE.varint) {
    [varint, valueEnd] = readVarint(bytes, afterTag, end);
  } else if (wireType === WIRE.bytes) {
    const [length, after] = readVarint(bytes, afterTag, end);
    if (length < 0n) throw new WireError(`field ${field} at byte ${at} has a negative length`);
    valueStart = after;
    valueEnd = after + Number(length);
  } else if (wireType === WIRE.fixed64) {
    valueEnd = afterTag + 8;
  } else if (wireType === WIRE.fixed32) {
    valueEnd = afterTag + 4;
  } else {
    throw new WireError(`unsupported wire type ${wireType} at byte ${at}`);
  }
  if (valueEnd > end) throw new WireError(`field ${field} at byte ${at} runs past byte ${end}`);
  return { field, wireType, start: at, end: valueEnd, varint, valueStart, valueEnd };
}

/** The fields of the message in `bytes[start, end)`, in order. */
export function* fields(bytes: Uint8Array, start = 0, end = bytes.length): Generator<WireField> {
  if (end > bytes.length) {
    throw new WireError(`a message ends at byte ${end}, past the end (${bytes.length} bytes)`);
  }
  for (let at = start; at < end;) {
    const f = fieldAt(bytes, at, end);
    at = f.end;
    yield f;
  }
}

/** Decodes a length-delimited field as UTF-8 text. */
export function text(bytes: Uint8Array, f: WireField): string {
  return new TextDecoder().decode(bytes.subarray(f.valueStart, f.valueEnd));
}

/** The integers of a repeated varint field (int64, int32, enum): one value, or a packed run. */
export function varints(bytes: Uint8Array, f: WireField): bigint[] {
  if (f.wireType === WIRE.varint) return [f.varint];
  const out: bigint[] = [];
  for (let at = f.valueStart; at < f.valueEnd;) {
    const [v, next] = readVarint(bytes, at, f.valueEnd);
    out.push(v);
    at = next;
  }
  return out;
}
