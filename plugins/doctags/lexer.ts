/**
 * DocTags lexer for the tolerant parser. DocTags is not XML: it is a stream
 * of special tokens (`<text>`, `<loc_42>`, `<fcel>`, `<_Python_>`, ...) mixed
 * with raw, unescaped text. A `<` only starts a tag when what follows looks
 * like a DocTags token name and closes with `>`; everything else (`a < b`,
 * `<b and c>`, `List<String>`) stays text.
 *
 * @module
 */

/** One lexical token. `offset` is the position in the page text. */
export type Token =
  /** `<name>`; `selfClosing` for the XML-style `<name/>` (not DocTags, tolerated). */
  | { type: "open"; name: string; raw: string; offset: number; selfClosing: boolean }
  /** `</name>`. */
  | { type: "close"; name: string; raw: string; offset: number }
  /** `<loc_N>`: a coordinate on the 0..500 grid. */
  | { type: "loc"; value: number; raw: string; offset: number }
  /** `<_Name_>`: a code-language token. */
  | { type: "lang"; name: string; raw: string; offset: number }
  /** Text between tokens, verbatim. */
  | { type: "text"; value: string; offset: number };

// Names are lower-case snake case (DocTags style); code-language tokens are
// `<_Name_>` with the name as docling spells it (C++, C#, ObjectiveC, ...).
const TAG = /<(\/?)([a-z][a-z0-9_]*)(\/?)>|<_([^<>\s]{1,40})_>/g;

/** Splits one page of DocTags into tokens. */
export function lex(text: string): Token[] {
  const out: Token[] = [];
  let last = 0;
  for (const m of text.matchAll(TAG)) {
    const offset = m.index;
    if (offset > last) out.push({ type: "text", value: text.slice(last, offset), offset: last });
    last = offset + m[0].length;
    if (m[4] !== undefined) {
      out.push({ type: "lang", name: m[4], raw: m[0], offset });
      continue;
    }
    const [raw, slash, name, selfSlash] = m;
    if (slash && selfSlash) {
      // "</name/>" is nothing DocTags knows; keep it as text.
      out.push({ type: "text", value: raw, offset });
      continue;
    }
    const loc = /^loc_(\d+)$/.exec(name);
    if (loc && !slash && !selfSlash) {
      out.push({ type: "loc", value: Number(loc[1]), raw, offset });
    } else if (slash) {
      out.push({ type: "close", name, raw, offset });
    } else {
      out.push({ type: "open", name, raw, offset, selfClosing: selfSlash === "/" });
    }
  }
  if (last < text.length) out.push({ type: "text", value: text.slice(last), offset: last });
  return out;
}
