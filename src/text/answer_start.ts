/**
 * Answers as shown to people and clients start at their first visible
 * character: chat models usually begin an answer with a space token (the
 * template ends in "Assistant:"), which is part of the token stream but not
 * of the answer. Used by the server and by `vlm run` alike.
 *
 * @module
 */

/** `text` without the whitespace it starts with. */
export function trimAnswerStart(text: string): string {
  return text.replace(/^\s+/, "");
}

/** The same for text arriving in pieces: drops whitespace until the first visible character. */
export class AnswerStart {
  #started = false;

  /** The part of `delta` to show. */
  push(delta: string): string {
    if (this.#started) return delta;
    const shown = trimAnswerStart(delta);
    if (shown) this.#started = true;
    return shown;
  }
}
