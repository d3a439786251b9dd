/**
 * The one place converted pages become one document. For now it joins the
 * pages' DocTags with `<page_break>` and exports them with the DocTags
 * plugin's reader and exporters; the multi-page assembler (provenance boxes
 * scaled to each page, picture crops) takes its place behind this function.
 *
 * @module
 */
import { parseDocTags } from "../../plugins/doctags/parse.ts";
import { toMarkdown } from "../../plugins/doctags/markdown.ts";
import { toHtml } from "../../plugins/doctags/html.ts";
import { toDoclingJson } from "../../plugins/doctags/docling_json.ts";
import type { RgbImage } from "../image/raster.ts";

/** One converted page, as assembly reads it. */
export interface DocumentPage {
  /** 1-based page number in the source document. */
  pageNo: number;
  /** The model's DocTags for the page. */
  doctags: string;
  /** Page size: PDF points for PDF pages, pixels for image pages. */
  size: { width: number; height: number };
  /** The page's raster, for picture crops. */
  image?: RgbImage;
}

/** A whole converted document in every output format. */
export interface AssembledDocument {
  /** The DoclingDocument, as parsed JSON. */
  json: unknown;
  /** Markdown. */
  markdown: string;
  /** HTML. */
  html: string;
  /** All pages' DocTags in one `<doctag>` envelope, pages separated by `<page_break>`. */
  doctags: string;
  /** Picture crops the Markdown and HTML reference, by relative path. */
  pictures: { path: string; png: Uint8Array }[];
}

/** The page's DocTags without its `<doctag>` envelope and stop tokens. */
function pageBody(doctags: string): string {
  let body = doctags.trim();
  if (body.startsWith("Assistant:")) body = body.slice("Assistant:".length).trim();
  body = body.replace(/<end_of_utterance>\s*$/, "").trim();
  if (body.startsWith("<doctag>")) body = body.slice("<doctag>".length);
  if (body.endsWith("</doctag>")) body = body.slice(0, -"</doctag>".length);
  return body.trim();
}

/** Assembles `pages` (in page order) into one document. */
export function assemblePages(pages: readonly DocumentPage[]): AssembledDocument {
  const ordered = [...pages].sort((a, b) => a.pageNo - b.pageNo);
  const bodies = ordered.map((page) => pageBody(page.doctags));
  const doctags = `<doctag>${bodies.join("<page_break>")}</doctag>`;
  const { document } = parseDocTags(
    bodies.map((body) => `<doctag>${body}</doctag>`),
    { pageSize: ordered.map((page) => page.size) },
  );
  return {
    json: JSON.parse(toDoclingJson(document)),
    markdown: toMarkdown(document),
    html: toHtml(document),
    doctags,
    pictures: [],
  };
}
