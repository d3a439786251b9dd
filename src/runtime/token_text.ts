/**
 * Incremental detokenisation: the text each new token adds, holding back
 * incomplete UTF-8 characters and possible stop-string prefixes, and the
 * final text cut at the first stop string.
 *
 * Each step decodes only a short window: the tokens since the last
 * committed text plus the one before it as context (so decoders that treat a
 * sequence's first token specially, e.g. SentencePiece's leading space, see
 * the same context as a full decode). Text is committed once it no longer
 * ends in an incomplete character. Cost per token is constant, not
 * proportional to the text so far.
 *
 * @module
 */
import { findStop, safeEmitLength } from "./stop_strings.ts";

/** Tracks emitted text across steps. */
export class TokenTextStream {
  readonly #decode: (ids: readonly number[]) => string;
  readonly #stops: readonly string[];
  #emitted = 0;
  #text = "";
  #committed = "";
  #prefixOffset = 0;
  #readOffset = 0;

  /** `decode` turns all ids so far into text. */
  constructor(decode: (ids: readonly number[]) => string, stops: readonly string[]) {
    this.#decode = decode;
    this.#stops = stops;
  }

  /** Updates with all ids so far; returns the new text to emit and whether a stop string hit. */
  push(ids: readonly number[]): { delta: string; stopped: boolean } {
    const pending = this.#advance(ids);
    this.#text = this.#committed + pending;
    const cut = findStop(this.#text, this.#stops);
    if (cut !== undefined) {
      this.#text = this.#text.slice(0, cut);
      return { delta: this.#take(this.#text.length), stopped: true };
    }
    let safe = safeEmitLength(this.#text, this.#stops);
    // A trailing U+FFFD is a character whose remaining bytes are in the next token.
    while (safe > this.#emitted && this.#text.charCodeAt(safe - 1) === 0xfffd) safe--;
    return { delta: this.#take(safe), stopped: false };
  }

  /** Decodes the uncommitted window; commits it when it ends in a whole character. */
  #advance(ids: readonly number[]): string {
    const prefix = this.#decode(ids.slice(this.#prefixOffset, this.#readOffset));
    const current = this.#decode(ids.slice(this.#prefixOffset));
    const added = current.startsWith(prefix) ? current.slice(prefix.length) : current;
    if (added.length > 0 && !added.endsWith("\uFFFD")) {
      this.#committed += added;
      // The last committed token stays as context for the next window.
      this.#prefixOffset = Math.max(this.#readOffset, ids.length - 1);
      this.#readOffset = ids.length;
      return "";
    }
    return added;
  }

  /** Emits everything left (at the end of generation). */
  flush(): string {
    return this.#take(this.#text.length);
  }

  /** The text emitted so far (without what is held back). */
  get streamed(): string {
    return this.#text.slice(0, this.#emitted);
  }

  /** The text so far. */
  get text(): string {
    return this.#text;
  }

  #take(end: number): string {
    if (end <= this.#emitted) return "";
    const delta = this.#text.slice(this.#emitted, end);
    this.#emitted = end;
    return delta;
  }
}
