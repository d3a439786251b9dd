/**
 * Prompt expansion: the text that stands in for one image in an
 * Idefics3/SmolVLM prompt. Each `<image>` in it receives one feature row, in
 * order: tiles row-major, then the global image.
 *
 * @module
 */
import type { TokensSpec } from "../spec/types.ts";

/** Text of the `<row_r_col_c>` marker (1-based row and column). */
export function rowColText(row: number, col: number): string {
  return `<row_${row}_col_${col}>`;
}

/** Token texts the image expansion needs, with the boundary tokens required. */
export type ExpansionTokens = Pick<TokensSpec, "image" | "fakeTokenAroundImage" | "globalImage">;

/**
 * The expansion of one image with `rows`×`cols` tiles (0×0 = a single unsplit
 * tile) and `tokensPerTile` feature rows per tile:
 *
 * - split: for each row r and column c `<fake><row_r_col_c>` + `<image>`×N, a
 *   newline after each row, then `\n<fake><global-img>` + `<image>`×N + `<fake>`;
 * - unsplit: `<fake><global-img>` + `<image>`×N + `<fake>`.
 *
 * Tiles are not closed individually; only the global image is.
 */
export function expandImagePrompt(
  rows: number,
  cols: number,
  tokensPerTile: number,
  tokens: ExpansionTokens,
): string {
  const fake = tokens.fakeTokenAroundImage?.text ?? "";
  const global = tokens.globalImage?.text ?? "";
  const features = tokens.image.text.repeat(tokensPerTile);
  const globalBlock = `${fake}${global}${features}${fake}`;
  if (rows === 0 && cols === 0) return globalBlock;
  let text = "";
  for (let r = 1; r <= rows; r++) {
    for (let c = 1; c <= cols; c++) text += `${fake}${rowColText(r, c)}${features}`;
    text += "\n";
  }
  return `${text}\n${globalBlock}`;
}
