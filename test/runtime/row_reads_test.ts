// Merged row reads: every wanted row is read, each read starts and ends on a wanted row, a gap is
// read through exactly when it is at most the threshold, so the bytes read beyond the wanted rows
// never exceed the threshold per saved read.
import assert from "node:assert/strict";
import fc from "fast-check";
import { FILE_MERGE_GAP_BYTES, planRowReads } from "../../src/modules/row_reads.ts";

const wantedRows = fc.uniqueArray(fc.nat({ max: 5000 }), { maxLength: 80 }).map((rows) =>
  rows.sort((a, b) => a - b)
);

Deno.test("row reads (property): cover exactly the wanted rows, and waste at most the threshold per merge", () => {
  fc.assert(
    fc.property(
      wantedRows,
      fc.integer({ min: 1, max: 4096 }),
      fc.nat({ max: 64 * 1024 }),
      (rows, rowBytes, maxGapBytes) => {
        const reads = planRowReads(rows, rowBytes, maxGapBytes);
        const wanted = new Set(rows);
        const covered: number[] = [];
        let previousEnd = -Infinity;
        for (const read of reads) {
          assert.ok(read.count >= 1);
          // Sorted and disjoint, each starting and ending on a wanted row.
          assert.ok(read.first > previousEnd);
          assert.ok(wanted.has(read.first) && wanted.has(read.first + read.count - 1));
          const inside = rows.filter((r) => r >= read.first && r < read.first + read.count);
          covered.push(...inside);
          // Each gap read through is at most the threshold.
          for (let k = 1; k < inside.length; k++) {
            assert.ok((inside[k] - inside[k - 1] - 1) * rowBytes <= maxGapBytes);
          }
          // Waste: the rows read that were not wanted, bounded by the merges it saved.
          const waste = (read.count - inside.length) * rowBytes;
          assert.ok(waste <= (inside.length - 1) * maxGapBytes);
          // Two reads stay apart only when the gap between them is over the threshold.
          if (previousEnd !== -Infinity) {
            assert.ok((read.first - previousEnd - 1) * rowBytes > maxGapBytes);
          }
          previousEnd = read.first + read.count - 1;
        }
        assert.deepEqual(covered, rows);
      },
    ),
  );
});

Deno.test("row reads: adjacent rows always share a read; a zero threshold merges nothing else", () => {
  assert.deepEqual(planRowReads([], 8, FILE_MERGE_GAP_BYTES), []);
  assert.deepEqual(planRowReads([0, 3, 4, 5, 9], 8, 0), [
    { first: 0, count: 1 },
    { first: 3, count: 3 },
    { first: 9, count: 1 },
  ]);
  // 2304-byte rows (SmolVLM-256M float32): 14 rows of gap fit 32 KiB, 15 do not.
  assert.equal(Math.floor(FILE_MERGE_GAP_BYTES / 2304), 14);
  assert.deepEqual(planRowReads([10, 25, 41], 2304, FILE_MERGE_GAP_BYTES), [
    { first: 10, count: 16 },
    { first: 41, count: 1 },
  ]);
});
