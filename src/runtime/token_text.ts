/**
 * Incremental detokenisation: the text each new token adds, holding back
 * incomplete UTF-8 characters and possible stop-string prefixes, and the
 * final text cut at the first stop string.
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

  /** `decode` turns all ids so far into text. */
  constructor(decode: (ids: readonly number[]) => string, stops: readonly string[]) {
    this.#decode = decode;
    this.#stops = stops;
  }

  /** Updates with all ids so far; returns the new text to emit and whether a stop string hit. */
  push(ids: readonly number[]): { delta: string; stopped: boolean } {
    this.#text = this.#decode(ids);
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

  /** Emits everything left (at the end of generation). */
  flush(): string {
    return this.#take(this.#text.length);
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
