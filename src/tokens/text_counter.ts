/**
 * Counting the text (non-image) tokens of a prompt. Special tokens are found
 * first, the way Hugging Face tokenizers split added tokens out before BPE;
 * each counts as exactly one token. The text between them goes to a
 * {@linkcode TextTokenCounter}: an exact one backed by the model's tokenizer
 * when a model folder is at hand, or the built-in estimate otherwise.
 *
 * @module
 */
import type { TokensSpec } from "../spec/types.ts";
import type { TextTokenCounter } from "../text/token_counter.ts";
import { tokenizerAddsBos } from "./conversation.ts";
import { rowColText } from "./prompt.ts";

export type { TextTokenCounter };

// Pre-tokenizer pieces in the style of byte-level BPE: words with their
// leading space, single digits (SmolLM2 and Llama split digits), punctuation
// runs and whitespace runs.
const PIECE = /\s?\p{L}+|\p{N}|\s?[^\s\p{L}\p{N}]+|\s+/gu;

/**
 * A tokenizer-free estimate: one token per pre-token piece, plus one more per
 * five letters beyond the first six of a long word. It is close for English
 * prose and never used where an exact count is available; results computed
 * with it are reported with `textTokensExact: false`.
 */
export const estimatedTextCounter: TextTokenCounter = {
  exact: false,
  count(text: string): number {
    let total = 0;
    for (const match of text.matchAll(PIECE)) {
      const letters = match[0].trim().length;
      total += 1 + (letters > 6 ? Math.ceil((letters - 6) / 5) : 0);
    }
    return total;
  },
};

/** Texts of every token that the tokenizer treats as one added token. */
export function specialTokenTexts(tokens: TokensSpec): string[] {
  const texts = new Set<string>();
  // The image placeholder is always split out: as an added token
  // (Idefics3/SmolVLM) or by MobileVLM's tokenize-around-<image> step.
  texts.add(tokens.image.text);
  for (const ref of [tokens.fakeTokenAroundImage, tokens.globalImage, tokens.endOfUtterance]) {
    if (ref && ref.id !== null) texts.add(ref.text);
  }
  // A BOS the template writes as text is one added token; one the tokenizer adds is not in the text.
  if (tokens.bos && tokens.bos.id !== null && !tokenizerAddsBos(tokens)) {
    texts.add(tokens.bos.text);
  }
  if (tokens.rowCol && tokens.rowCol.firstId !== null) {
    for (let r = 1; r <= tokens.rowCol.maxRows; r++) {
      for (let c = 1; c <= tokens.rowCol.maxCols; c++) texts.add(rowColText(r, c));
    }
  }
  return [...texts];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A prompt split into added tokens and plain-text runs. */
export interface PromptSegments {
  /** Added tokens in order of appearance. */
  special: string[];
  /** Plain-text runs between them (empty runs omitted). */
  text: string[];
}

/** Splits `prompt` on the spec's added tokens, longest match first. */
export function segmentPrompt(prompt: string, tokens: TokensSpec): PromptSegments {
  const specials = specialTokenTexts(tokens).sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`(${specials.map(escapeRegExp).join("|")})`, "g");
  const special: string[] = [];
  const text: string[] = [];
  prompt.split(pattern).forEach((part, index) => {
    // split() with one capture group alternates text, match, text, ...
    if (index % 2 === 1) special.push(part);
    else if (part.length > 0) text.push(part);
  });
  return { special, text };
}
