/**
 * Which reads gather a set of table rows: one read per run of rows, runs
 * separated by a gap of at most `maxGapBytes` merged into one read that also
 * reads the gap. A positioned read from a file has a fixed cost that reading a
 * few more bytes does not: on the development machine (warm page cache,
 * `tools/bench/positioned_reads.ts` on SmolVLM-256M's embedding files, 576-
 * and 2304-byte rows, 6 runs at load average 6–7) a read cost 5–12 µs plus
 * 0.10–0.25 ns a byte, so reading through ~42–57 kB (median 51 kB) costs as
 * much as another read. {@linkcode FILE_MERGE_GAP_BYTES} stays below that.
 *
 * @module
 */

/** Gap merged into a read from a file: below the measured break-even (~51 kB). */
export const FILE_MERGE_GAP_BYTES = 32 * 1024;

/** A read of rows `[first, first + count)`. */
export interface RowRead {
  /** First row read. */
  first: number;
  /** Rows read, the gaps between the wanted ones included. */
  count: number;
}

/**
 * The reads covering `rows` (ascending, distinct, non-negative integers):
 * each starts and ends on a wanted row, and two consecutive wanted rows share
 * a read exactly when the rows between them take at most `maxGapBytes` (0:
 * only adjacent rows share a read).
 */
export function planRowReads(
  rows: readonly number[],
  rowBytes: number,
  maxGapBytes: number,
): RowRead[] {
  // The largest gap, in rows, worth reading through.
  const maxGap = rowBytes > 0 ? Math.floor(maxGapBytes / rowBytes) : 0;
  const reads: RowRead[] = [];
  for (let i = 0; i < rows.length;) {
    let j = i + 1;
    while (j < rows.length && rows[j] - rows[j - 1] - 1 <= maxGap) j++;
    reads.push({ first: rows[i], count: rows[j - 1] - rows[i] + 1 });
    i = j;
  }
  return reads;
}
