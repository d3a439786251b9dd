/**
 * The bound on a table's grid. The exporters pad a table to a full rows ×
 * columns grid (docling's `TableData.grid`), so a ragged table (one row of
 * thousands of cells, then thousands of one-cell rows, as a looping model can
 * write) would cost rows × columns cells of memory from a few kB of text.
 * Parsed tables are therefore clipped to a grid proportional to the OTSL
 * tokens that were read (a table that is not ragged always fits), and
 * {@linkcode checkGridSize} refuses a hand-built table beyond the absolute cap.
 *
 * @module
 */
import { VlmError } from "../../src/errors/vlm_error.ts";

/** Most grid positions (rows × columns) of any table, parsed or built by hand. */
export const MAX_GRID_POSITIONS = 1_000_000;

/** Grid positions a table of `tokens` OTSL tokens may have: room for ragged rows, never unbounded. */
export function gridLimit(tokens: number): number {
  return Math.min(MAX_GRID_POSITIONS, Math.max(4096, 4 * tokens));
}

/** How many columns fit `limit` positions with `rows` rows (at least one). */
export function columnsWithin(rows: number, limit: number): number {
  return Math.max(1, Math.floor(limit / Math.max(1, rows)));
}

/** The message of the issue reported when a table is clipped. */
export function clippedMessage(rows: number, cols: number, keptCols: number): string {
  return `a ${rows}×${cols} grid is far larger than the cells written (a ragged or looping ` +
    `table); kept the first ${keptCols} column(s)`;
}

/** Throws a typed error when a table's grid is beyond {@linkcode MAX_GRID_POSITIONS}. */
export function checkGridSize(data: { numRows: number; numCols: number }): void {
  const { numRows, numCols } = data;
  const valid = Number.isSafeInteger(numRows) && Number.isSafeInteger(numCols) &&
    numRows >= 0 && numCols >= 0;
  if (valid && numRows * numCols <= MAX_GRID_POSITIONS) return;
  throw new VlmError(
    "input_invalid",
    `a table of ${String(numRows)} rows × ${String(numCols)} columns is beyond the ` +
      `${MAX_GRID_POSITIONS.toLocaleString("en")} grid positions an export can hold`,
    { fix: "give numRows and numCols as non-negative integers, or split the table" },
  );
}
