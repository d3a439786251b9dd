/**
 * The two ways a family's prompt receives images: as expanded text whose
 * placeholder tokens each take one feature row (Idefics3), or as sentinel ids
 * spliced between separately tokenized text pieces (LLaVA/MobileVLM, whose
 * placeholder is not a vocabulary token).
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { TokensSpec } from "../spec/types.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import type { SplicedPrompt, TileGrid } from "./types.ts";

/** Throws unless the prompt has exactly one placeholder per image. */
export function checkPlaceholders(placeholders: number, images: number): void {
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

/** Replaces the k-th placeholder of `rendered` with `block(grids[k])`. */
export function expandPlaceholders(
  rendered: string,
  grids: readonly TileGrid[],
  tokens: TokensSpec,
  block: (grid: TileGrid) => string,
): string {
  const pieces = rendered.split(tokens.image.text);
  checkPlaceholders(pieces.length - 1, grids.length);
  let text = pieces[0];
  grids.forEach((grid, k) => {
    text += block(grid) + pieces[k + 1];
  });
  return text;
}

/** Expands every placeholder as text, then tokenizes with the tokenizer's defaults. */
export function spliceAsText(
  rendered: string,
  tokenizer: TextTokenizer,
  grids: readonly TileGrid[],
  tokens: TokensSpec,
  block: (grid: TileGrid) => string,
): SplicedPrompt {
  const text = expandPlaceholders(rendered, grids, tokens, block);
  // As the reference processors: tokenizer defaults (add_special_tokens = true).
  return { text, ids: tokenizer.encode(text, true) };
}

/**
 * Tokenizes the text between placeholders piece by piece (special tokens such
 * as BOS only on the first piece); each placeholder becomes one sentinel id
 * per feature row.
 */
export function spliceAsSentinels(
  rendered: string,
  tokenizer: TextTokenizer,
  grids: readonly TileGrid[],
  tokensPerTile: number,
  tokens: TokensSpec,
): SplicedPrompt {
  const pieces = rendered.split(tokens.image.text);
  checkPlaceholders(pieces.length - 1, grids.length);
  const ids: number[] = [];
  pieces.forEach((piece, k) => {
    ids.push(...tokenizer.encode(piece, k === 0));
    if (k < grids.length) {
      ids.push(...new Array<number>(grids[k].tiles * tokensPerTile).fill(tokens.image.id!));
    }
  });
  return { text: rendered, ids };
}
