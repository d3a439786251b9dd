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
  checkPlaceholders(pieces.length - 1, plans.length);
  let text = pieces[0];
  plans.forEach((plan, k) => {
    text += expandImagePrompt(plan.rows, plan.cols, tokensPerTile, tokens) + pieces[k + 1];
  });
  return text;
}

function checkPlaceholders(placeholders: number, images: number): void {
  if (placeholders !== images) {
    throw new VlmError(
      "input_invalid",
      `the messages have ${placeholders} image placeholder${
        placeholders === 1 ? "" : "s"
      } but ${images} image${images === 1 ? " was" : "s were"} given`,
      { fix: 'pass exactly one image per {type: "image"} content part' },
    );
  }
}

/**
 * LLaVA-style splicing for models whose image placeholder is not a vocabulary
 * token (MobileVLM's id −200): the text between placeholders is tokenized
 * piece by piece (special tokens such as BOS only on the first piece) and each
 * placeholder becomes one sentinel id per feature row.
 */
function spliceSentinels(
  rendered: string,
  tokenizer: TextTokenizer,
  plans: readonly TilePlan[],
  tokensPerTile: number,
  tokens: TokensSpec,
): number[] {
  const pieces = rendered.split(tokens.image.text);
  checkPlaceholders(pieces.length - 1, plans.length);
  const ids: number[] = [];
  pieces.forEach((piece, k) => {
    ids.push(...tokenizer.encode(piece, k === 0));
    if (k < plans.length) {
      ids.push(...new Array<number>(plans[k].tiles * tokensPerTile).fill(tokens.image.id!));
    }
  });
  return ids;
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
  if (imageId !== null && imageId < 0) {
    const ids = spliceSentinels(rendered, tokenizer, plans, tokensPerTile, tokens);
    const imageTokens = ids.filter((id) => id === imageId).length;
    return { rendered, text: rendered, ids, imageTokens };
  }
  const text = expandImages(rendered, plans, tokensPerTile, tokens);
  // As the reference processors: tokenizer defaults (add_special_tokens = true).
  const ids = tokenizer.encode(text, true);
  const imageTokens = ids.filter((id) => id === imageId).length;
  return { rendered, text, ids, imageTokens };
}
