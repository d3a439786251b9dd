/**
 * Per-page DocTags joined into one multi-page DocTags text, the form docling's
 * `DocTagsDocument.from_multipage_doctags_and_images` reads back: one
 * `<doctag>` envelope, pages separated by `<page_break>`.
 *
 * @module
 */
import { pyStrip } from "./python.ts";
import { STOP_STRINGS } from "./vocabulary.ts";

/** A page's DocTags without the chat prefix, stop tokens and `<doctag>` envelope. */
export function pageDocTagsBody(text: string): string {
  let body = text.replace(/^\s*Assistant:/i, "");
  for (const stop of STOP_STRINGS) body = body.split(stop).join("");
  body = pyStrip(body);
  if (body.startsWith("<doctag>")) body = body.slice("<doctag>".length);
  if (body.endsWith("</doctag>")) body = body.slice(0, -"</doctag>".length);
  return pyStrip(body);
}

/**
 * `<doctag>page 1<page_break>page 2…</doctag>`; `splitPages` gives the page
 * bodies back.
 */
export function joinPageDocTags(pages: readonly string[]): string {
  return `<doctag>${pages.map(pageDocTagsBody).join("<page_break>")}</doctag>`;
}
