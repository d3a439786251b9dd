/**
 * Single-turn conversation layouts used for token accounting. The runtime
 * renders the model's own chat template; these layouts reproduce its output
 * for the common case of one user turn (images first, then text) followed by
 * the generation prompt. Each family (`src/families/`) owns its layout.
 *
 * @module
 */
import { familyOfTokens } from "../families/registry.ts";
import type { UserTurn } from "../families/types.ts";
import type { TokensSpec } from "../spec/types.ts";

export { MOBILEVLM_SYSTEM_PROMPT } from "../families/mobilevlm.ts";
export type { UserTurn };

/**
 * Renders one user turn plus the generation prompt, as the spec's family does:
 *
 * - `smolvlm` / `idefics3`: `BOS` + `User:` (`User: ` when the turn starts with
 *   text) + images + text + `<end_of_utterance>\nAssistant:`. The BOS is written
 *   as text (`<|im_start|>` or `<|begin_of_text|>`).
 * - `mobilevlm-v1`: `{system} USER: <image>\n{text} ASSISTANT:`; the tokenizer
 *   adds the BOS id itself, so it is not part of the string.
 */
export function renderUserTurn(turn: UserTurn, tokens: TokensSpec): string {
  return familyOfTokens(tokens).prompt.renderUserTurn(turn, tokens);
}

/** Whether the tokenizer (not the template text) adds the BOS token. */
export function tokenizerAddsBos(tokens: TokensSpec): boolean {
  return familyOfTokens(tokens).prompt.tokenizerAddsBos(tokens);
}
