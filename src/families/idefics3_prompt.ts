/**
 * The Idefics3/SmolVLM prompt: `User:` turns ending in `<end_of_utterance>`,
 * and each image expanded in the text into tile markers, boundary tokens and
 * one `<image>` per feature row (tiles row-major, then the global image).
 *
 * @module
 */
import type { SpecIssue } from "../errors/spec_error.ts";
import type { TokensSpec, VariantSpec } from "../spec/types.ts";
import { spliceAsText } from "./splicing.ts";
import type { PromptFormat, TileGrid, UserTurn } from "./types.ts";

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

/**
 * `BOS` + `User:` (`User: ` when the turn starts with text) + images + text +
 * `<end_of_utterance>\nAssistant:`. The BOS is written as text
 * (`<|im_start|>` or `<|begin_of_text|>`).
 */
function renderUserTurn(turn: UserTurn, tokens: TokensSpec): string {
  const images = turn.imageBlocks.join("");
  const bos = tokens.bos?.text ?? "";
  const separator = turn.imageBlocks.length > 0 ? ":" : ": ";
  return `${bos}User${separator}${images}${turn.text}${tokens.endOfUtterance.text}\nAssistant:`;
}

/** `BOS` + `Role:` (`Role: ` before text) + items + `<end_of_utterance>\n` per message. */
function chatTemplate(tokens: TokensSpec): string {
  const bos = tokens.bos?.text ?? "";
  const endOfUtterance = tokens.endOfUtterance.text;
  return `${bos}{% for message in messages %}{{message['role'] | capitalize}}` +
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}" +
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}" +
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}" +
    `${endOfUtterance}\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}`;
}

/** Boundary tokens are required, and tile markers when the spec splits. */
function tokenIssues({ image, tokens }: VariantSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  if (!tokens.fakeTokenAroundImage || !tokens.globalImage) {
    issues.push({
      path: tokens.fakeTokenAroundImage ? "tokens.globalImage" : "tokens.fakeTokenAroundImage",
      message: `the ${tokens.chatTemplate} layout wraps images in boundary tokens`,
      fix: "set tokens.fakeTokenAroundImage and tokens.globalImage",
    });
  }
  if (image.splitting && !tokens.rowCol) {
    issues.push({
      path: "tokens.rowCol",
      message: "splitting needs <row_r_col_c> tile markers",
      fix: "set tokens.rowCol or image.splitting to false",
    });
  }
  return issues;
}

const imageBlock = (grid: TileGrid, tokensPerTile: number, tokens: TokensSpec) =>
  expandImagePrompt(grid.rows, grid.cols, tokensPerTile, tokens);

/** The Idefics3 family's prompt format. */
export const idefics3Prompt: PromptFormat = {
  maxImages: null,
  tokenizerAddsBos: () => false,
  placeholderInVocabulary: true,
  renderUserTurn,
  imageBlock,
  featureRowsPerPlaceholder: () => 1,
  splice: (rendered, tokenizer, grids, tokensPerTile, tokens) =>
    spliceAsText(
      rendered,
      tokenizer,
      grids,
      tokens,
      (grid) => imageBlock(grid, tokensPerTile, tokens),
    ),
  chatTemplate,
  fillerTokens: { unknown: "<|endoftext|>", pad: "<|im_end|>" },
  tokenIssues,
};
