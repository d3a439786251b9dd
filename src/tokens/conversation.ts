/**
 * Single-turn conversation layouts used for token accounting. The runtime
 * renders the model's own chat template; these layouts reproduce its output
 * for the common case of one user turn (images first, then text) followed by
 * the generation prompt.
 *
 * @module
 */
import type { TokensSpec } from "../spec/types.ts";

/** MobileVLM's `v1` conversation system prompt. */
export const MOBILEVLM_SYSTEM_PROMPT: string =
  "A chat between a curious user and an artificial intelligence assistant. " +
  "The assistant gives helpful, detailed, and polite answers to the user's questions.";

/** A single user turn: expanded image blocks (already expanded) and the question. */
export interface UserTurn {
  /** One expanded prompt string per image, in order. */
  imageBlocks: readonly string[];
  /** The question text (may be empty). */
  text: string;
}

/**
 * Renders one user turn plus the generation prompt.
 *
 * - `smolvlm` / `idefics3`: `BOS` + `User:` (`User: ` when the turn starts with
 *   text) + images + text + `<end_of_utterance>\nAssistant:`. The BOS is written
 *   as text (`<|im_start|>` or `<|begin_of_text|>`).
 * - `mobilevlm-v1`: `{system} USER: <image>\n{text} ASSISTANT:`; the tokenizer
 *   adds the BOS id itself, so it is not part of the string.
 */
export function renderUserTurn(turn: UserTurn, tokens: TokensSpec): string {
  const images = turn.imageBlocks.join("");
  switch (tokens.chatTemplate) {
    case "smolvlm":
    case "idefics3": {
      const bos = tokens.bos?.text ?? "";
      const separator = turn.imageBlocks.length > 0 ? ":" : ": ";
      return `${bos}User${separator}${images}${turn.text}${tokens.endOfUtterance.text}\nAssistant:`;
    }
    case "mobilevlm-v1": {
      const imageLine = turn.imageBlocks.length > 0 ? `${images}\n` : "";
      return `${MOBILEVLM_SYSTEM_PROMPT} USER: ${imageLine}${turn.text} ASSISTANT:`;
    }
  }
}

/** Whether the tokenizer (not the template text) adds the BOS token. */
export function tokenizerAddsBos(tokens: TokensSpec): boolean {
  return tokens.chatTemplate === "mobilevlm-v1" && tokens.bos !== null;
}
