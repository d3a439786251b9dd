/**
 * Tells DocTags text from everything else a user may hand a DocTags reader by
 * mistake: an empty file, a PNG, JPEG or PDF, other binary data, or text
 * that holds no DocTags tag at all (which would otherwise come back as one
 * stray paragraph of "Markdown").
 *
 * @module
 */
import { VlmError } from "../../src/errors/vlm_error.ts";
import { isBlockTag, OTSL_ANCHORS } from "./vocabulary.ts";

/** File signatures worth naming in the error. */
const SIGNATURES: readonly { name: string; bytes: readonly number[]; at?: number }[] = [
  { name: "a PNG image", bytes: [0x89, 0x50, 0x4e, 0x47] },
  { name: "a JPEG image", bytes: [0xff, 0xd8, 0xff] },
  { name: "a GIF image", bytes: [0x47, 0x49, 0x46, 0x38] },
  { name: "a WebP image", bytes: [0x57, 0x45, 0x42, 0x50], at: 8 },
  { name: "a PDF document", bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] },
  { name: "a ZIP archive", bytes: [0x50, 0x4b, 0x03, 0x04] },
];

const IMAGE_FIX = "DocTags come from a model: run `vlm task doctags --model DIR --image FILE` " +
  "on the image (or `vlm document` on a PDF) and pass its output here";

/** Whether the text has at least one tag of the DocTags vocabulary. */
export function hasDocTagsTag(text: string): boolean {
  for (const m of text.matchAll(/<\/?([A-Za-z_][A-Za-z0-9_]*)>/g)) {
    const name = m[1];
    if (
      name === "doctag" || name === "page_break" || /^loc_\d+$/.test(name) ||
      isBlockTag(name) || OTSL_ANCHORS.has(name)
    ) return true;
  }
  return false;
}

/**
 * The bytes as DocTags text, or a `VlmError` (`input_invalid`) naming what
 * they are instead: empty, a known binary format, not UTF-8 text, or text
 * without any DocTags tag. `source` names the input in the message.
 */
export function checkDocTagsText(bytes: Uint8Array, source: string): string {
  const fail = (what: string, fix: string) =>
    new VlmError("input_invalid", `${source} is ${what}, not DocTags`, { fix });
  for (const sig of SIGNATURES) {
    const at = sig.at ?? 0;
    if (bytes.length >= at + sig.bytes.length && sig.bytes.every((b, i) => bytes[at + i] === b)) {
      throw fail(sig.name, IMAGE_FIX);
    }
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw fail("binary data (not UTF-8 text)", IMAGE_FIX);
  }
  if (text.includes("\0")) throw fail("binary data (it holds NUL bytes)", IMAGE_FIX);
  if (text.trim() === "") {
    throw fail(
      bytes.length === 0 ? "empty" : "blank (only whitespace)",
      "pass the file the model's DocTags output was saved to; it starts with <doctag>",
    );
  }
  if (!hasDocTagsTag(text)) {
    throw fail(
      "text without any DocTags tag (<doctag>, <text>, <loc_N>, ...)",
      "pass DocTags, e.g. the output of `vlm task doctags`; plain text or Markdown needs no conversion",
    );
  }
  return text;
}
