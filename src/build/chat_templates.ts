/**
 * Jinja chat templates written into synthesized folders: each family
 * (`src/families/`) owns its template, and `src/tokens/conversation.ts`
 * renders the same text for a single user turn.
 *
 * @module
 */
import { familyOfTokens } from "../families/registry.ts";
import type { TokensSpec } from "../spec/types.ts";

/** The chat template for a variant's conversation layout. */
export function chatTemplateFor(tokens: TokensSpec): string {
  return familyOfTokens(tokens).prompt.chatTemplate(tokens);
}
