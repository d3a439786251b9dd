/**
 * From chat messages and tile plans to input ids: render the model's chat
 * template, then let the model's family splice the k-th image into the k-th
 * `<image>` placeholder (`tokensPerTile` feature slots per tile) and tokenize.
 *
 * @module
 */
import { familyOfTokens } from "../families/registry.ts";
import { expandPlaceholders } from "../families/splicing.ts";
import type { TokensSpec } from "../spec/types.ts";
import type { ChatTemplate } from "../text/chat_template.ts";
import type { ChatMessage } from "../text/messages.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import type { TilePlan } from "../tokens/tiles.ts";

/** A prompt ready for the embedder. */
export interface BuiltPrompt {
  /** The rendered template before image expansion. */
  rendered: string;
  /** The full prompt text after image expansion. */
  text: string;
  /** Token ids of `text`. */
  ids: number[];
  /** How many of `ids` are `<image>` feature slots. */
  imageTokens: number;
}

/** Replaces every `<image>` placeholder of `rendered` with the family's text for its tile plan. */
export function expandImages(
  rendered: string,
  plans: readonly TilePlan[],
  tokensPerTile: number,
  tokens: TokensSpec,
): string {
  return expandPlaceholders(
    rendered,
    plans,
    tokens,
    (plan) => familyOfTokens(tokens).prompt.imageBlock(plan, tokensPerTile, tokens),
  );
}

/** Renders, expands and tokenizes a conversation. */
export function buildPrompt(
  template: ChatTemplate,
  tokenizer: TextTokenizer,
  messages: readonly ChatMessage[],
  plans: readonly TilePlan[],
  tokensPerTile: number,
  tokens: TokensSpec,
): BuiltPrompt {
  const rendered = template.render(messages, true);
  const imageId = tokens.image.id;
  const { text, ids } = familyOfTokens(tokens).prompt.splice(
    rendered,
    tokenizer,
    plans,
    tokensPerTile,
    tokens,
  );
  const imageTokens = ids.filter((id) => id === imageId).length;
  return { rendered, text, ids, imageTokens };
}
