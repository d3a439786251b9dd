/**
 * Problems found while parsing DocTags. Parsing never throws; everything it
 * had to repair, drop or guess is reported here instead.
 *
 * @module
 */

/** What went wrong. */
export type IssueCode =
  /** An element's closing tag never came before the next block or the end. */
  | "unclosed_element"
  /** The text ended inside an element (generation stopped early). */
  | "truncated"
  /** A closing tag with no open element. */
  | "stray_closing_tag"
  /** Text outside any element, kept as a paragraph. */
  | "stray_text"
  /** A tag DocTags does not define. */
  | "unknown_tag"
  /** A heading level outside 1..6, clamped. */
  | "heading_level"
  /** An element in a place DocTags does not allow (e.g. `<list_item>` outside a list). */
  | "misplaced_element"
  /** A table whose rows or spans do not line up; the grid was padded or clipped. */
  | "irregular_table"
  /** A run of identical elements, the signature of a generation loop; collapsed. */
  | "repetition"
  /** A picture without location tokens (docling-compatible mode drops it). */
  | "missing_location"
  /** docling-core raises an exception on this input; the output is a best effort. */
  | "reference_error"
  /** docling-core drops or garbles this content (reported in docling-compatible mode). */
  | "reference_loss"
  /** A picture whose box covers no pixel of the page image: no crop was written. */
  | "picture_not_cropped";

/** One reported problem. */
export interface ParseIssue {
  /** What went wrong. */
  code: IssueCode;
  /** Human-readable description. */
  message: string;
  /** 1-based page. */
  page: number;
  /** The element's tag name, when there is one. */
  tag?: string;
  /** Character offset in the page's text, when known. */
  offset?: number;
}
