/**
 * GitHub pipe tables laid out the way docling's Markdown export does it:
 * `tabulate(rows[1:], headers=rows[0], tablefmt="github",
 * disable_numparse=True, colalign=...)` with tabulate 0.10, where a column is
 * right-aligned when all its non-empty body cells read as numbers.
 *
 * Widths count code points (tabulate without the optional `wcwidth`
 * package); ANSI colour codes and multi-line cells, which tabulate treats
 * specially, are laid out as plain text.
 *
 * @module
 */
import { pyFloat, pyIsInt, pyLen, pyStrip } from "./python.ts";

/** tabulate's type ranking: none < bool < int < float < str. */
const NONE = 0;
const BOOL = 1;
const INT = 2;
const FLOAT = 3;
const STR = 5;

// tabulate's `_float_with_thousands_separators`; JavaScript has no conditional
// groups, so the `(?(1)...|...)` branch becomes an alternation.
const THOUSANDS = /^(?:[+-]?[0-9]{1,3}(?:,[0-9]{3})*(?:\.[0-9]*)?|(?:\.[0-9]+)?)\n?$/;
// CSI colour codes and OSC 8 hyperlinks (kept: the link text). Built from a
// string so the escape character does not sit in a regex literal.
const ESC = "\\x1b";
const ANSI = new RegExp(
  `${ESC}\\[[\\x30-\\x3f]*[\\x20-\\x2f]*[\\x40-\\x7e]|` +
    `${ESC}\\]8;(?:\\w+=\\w+:?)*;[^${ESC}]+${ESC}\\\\([^${ESC}]+)${ESC}\\]8;;${ESC}\\\\`,
  "g",
);

/** tabulate's `_isnumber`: convertible to float, overflow to ±inf excluded. */
function isNumber(text: string): boolean {
  const value = pyFloat(text);
  if (value === undefined) return false;
  if (Number.isFinite(value)) return true;
  return ["inf", "-inf", "nan"].includes(text.toLowerCase());
}

/** tabulate's `_type` of one cell, with number parsing on. */
function cellType(raw: string): number {
  const text = raw.replace(ANSI, "$1");
  if (text === "") return NONE;
  if (text === "True" || text === "False") return BOOL;
  if (pyIsInt(text) || (THOUSANDS.test(text) && !text.includes("."))) return INT;
  if (isNumber(text) || THOUSANDS.test(text)) return FLOAT;
  return STR;
}

/** Whether tabulate's `_column_type` calls the column numeric (int or float). */
export function isNumericColumn(values: readonly string[]): boolean {
  const type = values.reduce((acc, v) => Math.max(acc, cellType(v)), BOOL);
  return type === INT || type === FLOAT;
}

function padEnd(text: string, width: number): string {
  const n = pyLen(text);
  return n >= width ? text : text + " ".repeat(width - n);
}

function padStart(text: string, width: number): string {
  const n = pyLen(text);
  return n >= width ? text : " ".repeat(width - n) + text;
}

/**
 * Renders `rows` (first row = header) as a padded pipe table. All rows must
 * have the same length. Returns "" for no rows.
 */
export function pipeTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return "";
  const header = rows[0];
  const body = rows.slice(1);
  const numCols = header.length;
  const right: boolean[] = [];
  const widths: number[] = [];
  const columns: string[][] = [];
  for (let c = 0; c < numCols; c++) {
    const values = body.map((row) => row[c] ?? "");
    right.push(body.length > 0 && isNumericColumn(values));
    // Data cells are stripped before padding; header cells are not.
    const stripped = values.map(pyStrip);
    columns.push(stripped);
    widths.push(Math.max(pyLen(header[c]) + 2, ...stripped.map(pyLen)));
  }
  const line = (cells: string[]) => "|" + cells.map((cell) => ` ${cell} `).join("|") + "|";
  const align = (text: string, c: number) =>
    right[c] ? padStart(text, widths[c]) : padEnd(text, widths[c]);
  const out = [
    line(header.map((h, c) => align(h, c))),
    "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|",
  ];
  for (let r = 0; r < body.length; r++) out.push(line(columns.map((col, c) => align(col[r], c))));
  return out.join("\n");
}
