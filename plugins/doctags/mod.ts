/**
 * DocTags: the markup SmolDocling-256M and granite-docling-258M emit for a
 * page. This module parses it into a typed document and exports that to
 * Markdown, HTML and JSON the way docling does.
 *
 * - {@link parseDocTags} reads raw model output. The default mode is
 *   tolerant: it never throws and keeps content from truncated or malformed
 *   output, listing every repair in `issues`. `compat: "docling"` instead
 *   reproduces docling-core 2.87's reader, losses included, so that the
 *   exports match docling byte for byte.
 * - {@link toMarkdown}, {@link toHtml}, {@link toJson} and
 *   {@link toDoclingJson} export a document.
 * - {@link loopGuard} tells whether generation is stuck in a loop.
 * - {@link assembleDocument} joins per-page DocTags and page images into one
 *   multi-page document with its exports and cropped pictures.
 *
 * @example
 * ```ts
 * import { parseDocTags, toMarkdown } from "./mod.ts";
 *
 * const { document, issues } = parseDocTags(
 *   "<doctag><title><loc_10><loc_10><loc_490><loc_30>Report</title>" +
 *     "<text><loc_10><loc_40><loc_490><loc_60>Sales grew.</text></doctag>",
 * );
 * console.log(toMarkdown(document)); // "# Report\n\nSales grew."
 * console.log(issues.length); // 0
 * ```
 *
 * @module
 */
export {
  doctags,
  DOCTAGS_PROMPTS,
  type DocTagsTaskOptions,
  type DocTagsTaskResult,
} from "./task.ts";
export { parseDocTags, splitPages } from "./parse.ts";
export { assembleDocument } from "./pages.ts";
export type {
  AssembledDocument,
  AssembledPicture,
  AssembleOptions,
  DocumentPage,
} from "./pages.ts";
export { joinPageDocTags } from "./page_doctags.ts";
export { checkDocTagsText } from "./doctags_input.ts";
export type { ParseOptions, ParseResult } from "./parse.ts";
export { toMarkdown } from "./markdown.ts";
export type { MarkdownOptions } from "./markdown.ts";
export { toHtml } from "./html.ts";
export type { HtmlOptions } from "./html.ts";
export { toDoclingJson, toJson } from "./docling_json.ts";
export type { DoclingJsonOptions, JsonOptions } from "./docling_json.ts";
export { loopGuard } from "./loop_guard.ts";
export type { LoopGuardOptions, LoopVerdict } from "./loop_guard.ts";
export { latexToMathml } from "./mathml.ts";
export { tableGrid } from "./document.ts";
export type {
  BlockNode,
  BoundingBox,
  CodeNode,
  ContentLayer,
  DocNode,
  DocTagsDocument,
  FormulaNode,
  HeadingNode,
  InlineChild,
  InlineNode,
  KeyValueCell,
  KeyValueLink,
  KeyValueNode,
  ListItemNode,
  ListNode,
  NodeBase,
  PageInfo,
  PageSize,
  PictureImage,
  PictureNode,
  TableCell,
  TableData,
  TableNode,
  TextLabel,
  TextNode,
  TitleNode,
} from "./document.ts";
export type { IssueCode, ParseIssue } from "./issues.ts";
