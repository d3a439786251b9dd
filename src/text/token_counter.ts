/**
 * The one thing accounting needs from a tokenizer: how many tokens a piece of
 * plain text becomes. The model's tokenizer implements it exactly; accounting
 * without a model folder uses an estimate (`src/tokens/text_counter.ts`).
 *
 * @module
 */

/** Counts the tokens of plain text (no special tokens in it). */
export interface TextTokenCounter {
  /** `true` when counts come from the model's real tokenizer. */
  readonly exact: boolean;
  /** Number of tokens `text` encodes to. */
  count(text: string): number;
}
