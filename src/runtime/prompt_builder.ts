/**
 * From chat messages and tile plans to input ids: render the model's chat
 * template, replace the k-th `<image>` with the k-th image's expansion (rows,
 * columns, global image, `tokensPerTile` feature slots each), then tokenize.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { TokensSpec } from "../spec/types.ts";
import type { ChatTemplate } from "../text/chat_template.ts";
import type { ChatMessage } from "../text/messages.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import { expandImagePrompt } from "../tokens/prompt.ts";
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

/** Expands every `<image>` placeholder of `rendered` with its tile plan. */
export function expandImages(
  rendered: string,
  plans: readonly TilePlan[],
  tokensPerTile: number,
  tokens: TokensSpec,
): string {
  const pieces = rendered.split(tokens.image.text);
  const placeholders = pieces.length - 1;
  if (placeholders !== plans.length) {
    throw new VlmError(
      "input_invalid",
      `the messages have ${placeholders} image placeholder${
        placeholders === 1 ? "" : "s"
      } but ${plans.length} image${plans.length === 1 ? " was" : "s were"} given`,
      { fix: 'pass exactly one image per {type: "image"} content part' },
    );
  }
  let text = pieces[0];
  plans.forEach((plan, k) => {
    text += expandImagePrompt(plan.rows, plan.cols, tokensPerTile, tokens) + pieces[k + 1];
  });
  return text;
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
  const text = expandImages(rendered, plans, tokensPerTile, tokens);
  // As the reference processors: tokenizer defaults (add_special_tokens = true).
  const ids = tokenizer.encode(text, true);
  const imageId = tokens.image.id;
  const imageTokens = ids.filter((id) => id === imageId).length;
  return { rendered, text, ids, imageTokens };
}
