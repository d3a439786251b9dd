/**
 * Small text helpers that behave like their Python counterparts.
 *
 * docling-core is written in Python, so reproducing its output byte for byte
 * needs Python's idea of whitespace (`str.strip`), string length (code points,
 * not UTF-16 units), HTML escaping and number parsing (`int()`/`float()`, used
 * by the Markdown table alignment rule).
 *
 * @module
 */

/** Code points `str.isspace()` accepts: the set `str.strip()` removes. */
function isPySpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d) || code >= 0x1c;
  if (code < 0x85) return false;
  return code === 0x85 || code === 0xa0 || code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 ||
    code === 0x202f || code === 0x205f || code === 0x3000;
}

/**
 * `str.strip()` with Python's whitespace set. JavaScript's `trim` differs: it
 * strips U+FEFF but keeps U+001C..U+001F and U+0085.
 */
export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPySpace(text.charCodeAt(start))) start++;
  while (end > start && isPySpace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** `str.rstrip()` with Python's whitespace set. */
export function pyRstrip(text: string): string {
  let end = text.length;
  while (end > 0 && isPySpace(text.charCodeAt(end - 1))) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** True when the string is empty after `str.strip()`. */
export function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isPySpace(text.charCodeAt(i))) return false;
  return true;
}

/** `len(s)` in Python: the number of code points (a surrogate pair counts once). */
export function pyLen(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** `html.escape(text, quote)`: `&`, `<`, `>` and, with `quote`, `"` and `'`. */
export function htmlEscape(text: string, quote = true): string {
  let out = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  if (quote) out = out.replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  return out;
}

/** `str.capitalize()`: first character upper-cased, the rest lower-cased. */
export function pyCapitalize(text: string): string {
  const first = text.codePointAt(0);
  if (first === undefined) return text;
  const width = first > 0xffff ? 2 : 1;
  return String.fromCodePoint(first).toUpperCase() + text.slice(width).toLowerCase();
}

// Python's int()/float() accept any Unicode decimal digit (category Nd).
const DIGIT = "\\p{Nd}";
const DIGITS = `${DIGIT}(?:_?${DIGIT})*`;
const PY_INT = new RegExp(`^[+-]?${DIGITS}$`, "u");
const PY_FLOAT = new RegExp(
  `^[+-]?(?:(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?` +
    `|inf|infinity|nan)$`,
  "iu",
);

/** Maps every Unicode decimal digit to its ASCII value and drops `_` separators. */
function asciiNumber(text: string): string {
  let out = "";
  for (const ch of text) {
    if (ch === "_") continue;
    if (/^\p{Nd}$/u.test(ch) && !(ch >= "0" && ch <= "9")) {
      // Unicode digits come in contiguous runs of ten; find the run's zero.
      let cp = ch.codePointAt(0)!;
      let value = 0;
      while (value < 9 && /^\p{Nd}$/u.test(String.fromCodePoint(cp - 1))) {
        cp--;
        value++;
      }
      out += String(value);
    } else {
      out += ch;
    }
  }
  return out;
}

/** Whether Python's `int(text)` would succeed. */
export function pyIsInt(text: string): boolean {
  return PY_INT.test(pyStrip(text));
}

/** Whether Python's `float(text)` would succeed; the parsed value otherwise `undefined`. */
export function pyFloat(text: string): number | undefined {
  const s = pyStrip(text);
  if (!PY_FLOAT.test(s)) return undefined;
  const lower = s.toLowerCase().replace(/^[+-]/, "");
  if (lower === "nan") return NaN;
  if (lower === "inf" || lower === "infinity") return s.startsWith("-") ? -Infinity : Infinity;
  return Number(asciiNumber(s));
}

/** The value of a string of Unicode decimal digits, as Python's `int()` reads it. */
export function pyDigitsValue(digits: string): number {
  return Number(asciiNumber(digits));
}

/**
 * `urllib.parse.quote(text)`: UTF-8 bytes percent-encoded, except ASCII
 * letters, digits, `_.-~` and `/`.
 */
export function pyQuote(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.\-~/]/.test(ch) && byte < 0x80
      ? ch
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
