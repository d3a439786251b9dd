/**
 * Writes protobuf messages field by field, for the graph rewrites the runtime
 * makes on a model's bytes before its session opens. Large payloads can be
 * filled in place when the message is finished, so they exist once.
 *
 * @module
 */

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

/** A field's key; arithmetic, not `<<`, which overflows 32 bits from field 2^28 on. */
function tag(field: number, wireType: number): number[] {
  return varintBytes(field * 8 + wireType);
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
    return this.#push(Uint8Array.from([...tag(field, 0), ...varintBytes(value)]));
  }

  /**
   * A length-delimited field: bytes, a nested message, or text. Bytes and
   * messages are referenced, not copied, until {@linkcode finish}.
   */
  bytes(field: number, value: Uint8Array | string | MessageWriter): this {
    const payload = typeof value === "string" ? new TextEncoder().encode(value) : value;
    this.#push(Uint8Array.from([...tag(field, 2), ...varintBytes(payload.length)]));
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
    this.#push(Uint8Array.from([...tag(field, 2), ...varintBytes(length)]));
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
