/**
 * The cost of one positioned read (`readSync` at a position, as the embedding
 * table's disk source does) against its length: reads of 1 to 256 rows of
 * ROW_BYTES at random positions of a file, page cache warm, the lengths
 * alternated over 9 rounds. Prints the median µs per read per length, and
 * the fit `fixed + perByte · bytes` whose ratio `fixed / perByte` is the gap
 * worth reading through rather than paying another read
 * (src/modules/row_reads.ts).
 *
 *   deno run -A tools/bench/positioned_reads.ts FILE [ROW_BYTES]
 *
 * @module
 */
import { openReadOnlyFile } from "../../src/platform/read_only_file.ts";

const [path, rowArg = "2304"] = Deno.args;
const rowBytes = Number(rowArg);
const file = openReadOnlyFile(path)!;
const rows = Math.floor(file.size / rowBytes);
// Warm the page cache: one pass over the file.
const chunk = new Uint8Array(1 << 20);
for (let p = 0; p < file.size; p += chunk.length) {
  file.readAt(chunk.subarray(0, Math.min(chunk.length, file.size - p)), p);
}

let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const counts = [1, 4, 16, 64, 256];
const samples = 2000;
// Rounds alternate the lengths, so a burst of load on the shared machine hits them all.
const times = counts.map(() => [] as number[]);
const buffers = counts.map((count) => new Uint8Array(count * rowBytes));
for (let round = 0; round < 9; round++) {
  counts.forEach((count, c) => {
    const started = performance.now();
    for (let i = 0; i < samples; i++) {
      file.readAt(buffers[c], Math.floor(random() * (rows - count)) * rowBytes);
    }
    times[c].push(((performance.now() - started) * 1000) / samples);
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const points = counts.map((count, c) => ({ bytes: count * rowBytes, us: median(times[c]) }));
file.close();
// Least squares over the points: us = fixed + perByte · bytes.
const n = points.length;
const mx = points.reduce((s, p) => s + p.bytes, 0) / n;
const my = points.reduce((s, p) => s + p.us, 0) / n;
const perByte = points.reduce((s, p) => s + (p.bytes - mx) * (p.us - my), 0) /
  points.reduce((s, p) => s + (p.bytes - mx) ** 2, 0);
const fixed = my - perByte * mx;
console.log(JSON.stringify({
  rowBytes,
  points: points.map((p) => ({ bytes: p.bytes, us: Number(p.us.toFixed(2)) })),
  fixedUs: Number(fixed.toFixed(2)),
  nsPerByte: Number((perByte * 1000).toFixed(4)),
  breakEvenBytes: Math.round(fixed / perByte),
}));
