/**
 * OTSL (the table language inside `<otsl>` and `<chart>`) to table cells.
 *
 * Two builders:
 * - `buildTable` (tolerant): takes rows of cells already split by the parser,
 *   keeps header kinds, pads ragged rows and never indexes out of bounds.
 * - `referenceOtslTable` (docling-compatible): reproduces docling-core's
 *   `parse_otsl_table_content` on the raw element text, quirks included
 *   (header kinds dropped, a cell with no text takes the next tag as its text,
 *   spans read from a row split that can disagree with the walk). Where
 *   docling-core would raise an IndexError it reports the fact and carries on.
 *
 * @module
 */
import type { TableCell, TableData } from "./document.ts";
import { OTSL_ANCHORS, OTSL_TOKENS } from "./vocabulary.ts";
import { isBlank, pyStrip } from "./python.ts";
import { clippedMessage, columnsWithin, gridLimit } from "./table_bound.ts";

/** A cell as read from OTSL: its token and the text after it. */
export interface OtslCell {
  /** `fcel`, `ecel`, `ched`, `rhed`, `srow`, `lcel`, `ucel` or `xcel`. */
  token: string;
  /** The text that followed the token (anchors only). */
  text: string;
}

/**
 * Builds table data from rows of OTSL cells. Anchors start cells; `lcel`
 * extends the cell to the left, `ucel` the one above, `xcel` both. Tokens that
 * break the OTSL rules (a `ucel` with nothing above, ...) are kept as empty
 * cells and reported through `report`.
 */
export function buildTable(
  input: readonly OtslCell[][],
  report?: (message: string) => void,
): TableData {
  const rows = boundRows(input, report);
  const numRows = rows.length;
  const numCols = rows.reduce((max, row) => Math.max(max, row.length), 0);
  const token = (r: number, c: number) => r < numRows ? rows[r][c]?.token : undefined;
  const covered: boolean[][] = rows.map(() => new Array<boolean>(numCols).fill(false));
  const cells: TableCell[] = [];
  let irregular = rows.some((row) => row.length !== numCols);

  for (let r = 0; r < numRows; r++) {
    for (let c = 0; c < rows[r].length; c++) {
      const cell = rows[r][c];
      if (!OTSL_ANCHORS.has(cell.token)) continue;
      // Spans as docling reads them: continuations to the right, then below.
      let colSpan = 1;
      while (token(r, c + colSpan) === "lcel" || token(r, c + colSpan) === "xcel") colSpan++;
      let rowSpan = 1;
      while (token(r + rowSpan, c) === "ucel" || token(r + rowSpan, c) === "xcel") rowSpan++;
      for (let i = r; i < r + rowSpan; i++) {
        for (let j = c; j < c + colSpan; j++) covered[i][j] = true;
      }
      cells.push({
        text: cell.token === "ecel" ? "" : pyStrip(cell.text),
        rowSpan,
        colSpan,
        startRow: r,
        endRow: r + rowSpan,
        startCol: c,
        endCol: c + colSpan,
        columnHeader: cell.token === "ched",
        rowHeader: cell.token === "rhed",
        rowSection: cell.token === "srow",
      });
    }
  }
  // Continuation tokens no anchor reaches break the OTSL rules: keep them as empty cells.
  for (let r = 0; r < numRows; r++) {
    for (let c = 0; c < rows[r].length; c++) {
      if (covered[r][c] || OTSL_ANCHORS.has(rows[r][c].token)) continue;
      irregular = true;
      cells.push({
        text: "",
        rowSpan: 1,
        colSpan: 1,
        startRow: r,
        endRow: r + 1,
        startCol: c,
        endCol: c + 1,
        columnHeader: false,
        rowHeader: false,
        rowSection: false,
      });
    }
  }
  if (irregular && report) report("rows of different lengths or spans that do not line up");
  // Reading order: by start row, then start column.
  cells.sort((a, b) => a.startRow - b.startRow || a.startCol - b.startCol);
  return { numRows, numCols, cells };
}

/** Rows cut to the columns that fit the grid bound (see `table_bound.ts`). */
function boundRows(
  rows: readonly OtslCell[][],
  report?: (message: string) => void,
): readonly OtslCell[][] {
  const numCols = rows.reduce((max, row) => Math.max(max, row.length), 0);
  // Every cell and every row end (`<nl>`) was a token of the input.
  const tokens = rows.reduce((sum, row) => sum + row.length + 1, 0);
  const limit = gridLimit(tokens);
  if (rows.length * numCols <= limit) return rows;
  const cols = columnsWithin(rows.length, limit);
  report?.(clippedMessage(rows.length, numCols, cols));
  return rows.map((row) => row.length > cols ? row.slice(0, cols) : row);
}

const ANCHOR_TAGS = new Set([...OTSL_ANCHORS].map((t) => `<${t}>`));
const STRUCTURE_TAGS = new Set([...OTSL_TOKENS].map((t) => `<${t}>`));
const SPAN_RIGHT = new Set(["<lcel>", "<xcel>"]);
const SPAN_DOWN = new Set(["<ucel>", "<xcel>"]);

/** Whether docling-core's OTSL helpers drop this piece (locations and the `<otsl>` tags). */
function dropped(piece: string): boolean {
  return piece.startsWith("<loc_") || piece === "<otsl>" || piece === "</otsl>";
}

/**
 * docling-core's reading of an OTSL element (`chunk` is the whole element,
 * tags included). `report` receives a message wherever docling-core would
 * raise instead of returning a table; `clipped` when the grid had to be cut
 * to its bound (docling-core would pad it without limit).
 */
export function referenceOtslTable(
  chunk: string,
  report: (message: string) => void,
  clipped: (message: string) => void = report,
): TableData {
  // Every "<...>" is a token, even text such as "< 0.05 ... >".
  const tokens = (chunk.match(/<[^>]+>/g) ?? []).filter((t) => !dropped(t));
  const texts = chunk.split(/(<[^>]+>)/).filter((t) => !dropped(t) && !isBlank(t));
  // Rows: the structure tokens split on <nl>; empty rows vanish.
  const rows: string[][] = [];
  let current: string[] = [];
  for (const token of tokens) {
    if (!STRUCTURE_TAGS.has(token)) continue;
    if (token === "<nl>") {
      if (current.length > 0) rows.push(current);
      current = [];
    } else {
      current.push(token);
    }
  }
  if (current.length > 0) rows.push(current);

  let crashed = false;
  const crash = (what: string) => {
    if (!crashed) report(`docling-core raises IndexError (${what})`);
    crashed = true;
  };
  const at = (r: number, c: number): string | undefined => {
    if (r >= rows.length || c >= rows[r].length) return undefined;
    return rows[r][c];
  };
  /** Span tokens from (r, c) onward in one direction (docling's loop, including its IndexError). */
  const countSpan = (
    r: number,
    c: number,
    down: boolean,
    spanTokens: ReadonlySet<string>,
    overrun: string,
  ): number => {
    let span = 0;
    for (;;) {
      const token = at(r, c);
      if (token === undefined) {
        crash(overrun);
        return span;
      }
      if (!spanTokens.has(token)) return span;
      if (down) r++;
      else c++;
      span++;
      if (down ? r >= rows.length : c >= rows[r].length) return span;
    }
  };
  const countRight = (r: number, c: number) =>
    countSpan(r, c, false, SPAN_RIGHT, "a column span runs past its row");
  const countDown = (r: number, c: number) =>
    countSpan(r, c, true, SPAN_DOWN, "a row span reaches a row without that column");

  const cells: TableCell[] = [];
  let r = 0;
  let c = 0;
  for (let i = 0; i < texts.length; i++) {
    const piece = texts[i];
    if (ANCHOR_TAGS.has(piece)) {
      let rowSpan = 1;
      let colSpan = 1;
      let text = "";
      let rightOffset = 1;
      if (piece !== "<ecel>") {
        if (i + 1 < texts.length) text = texts[i + 1];
        else crash("a cell token ends the table");
        rightOffset = 2;
      }
      const nextRight = i + rightOffset < texts.length ? texts[i + rightOffset] : "";
      const nextBottom = at(r + 1, c) ?? "";
      if (SPAN_RIGHT.has(nextRight)) colSpan += countRight(r, c + 1);
      if (SPAN_DOWN.has(nextBottom)) rowSpan += countDown(r + 1, c);
      cells.push({
        text: pyStrip(text),
        rowSpan,
        colSpan,
        startRow: r,
        endRow: r + rowSpan,
        startCol: c,
        endCol: c + colSpan,
        columnHeader: false,
        rowHeader: false,
        rowSection: false,
      });
    }
    if (STRUCTURE_TAGS.has(piece) && piece !== "<nl>") c++;
    if (piece === "<nl>") {
      r++;
      c = 0;
    }
  }
  const data = {
    numRows: rows.length,
    numCols: rows.reduce((max, row) => Math.max(max, row.length), 0),
    cells,
  };
  return clipTableData(data, gridLimit(tokens.length), clipped);
}

/**
 * Clips finished table data to `limit` grid positions by dropping columns
 * from the right (cells that start beyond the kept columns go, spans are cut).
 * Returns the data unchanged when it fits.
 */
export function clipTableData(
  data: TableData,
  limit: number,
  report: (message: string) => void,
): TableData {
  if (data.numRows * data.numCols <= limit) return data;
  const cols = columnsWithin(data.numRows, limit);
  report(clippedMessage(data.numRows, data.numCols, cols));
  const cells = data.cells.filter((cell) => cell.startCol < cols).map((cell) =>
    cell.endCol <= cols ? cell : { ...cell, endCol: cols, colSpan: cols - cell.startCol }
  );
  return { numRows: data.numRows, numCols: cols, cells };
}
