// Seeded mutation fuzzing of an image decoder over the real seed files: fast-check picks
// a seed and a list of mutations (bit flips, byte writes, truncation, chunk or segment
// duplication, header field rewrites with the PNG CRC fixed up, so the mutation reaches
// past the CRC check). Every case is classified: typed VlmError or decoded (ok), untyped
// throw (fail), over the time limit (fail).
import fc from "fast-check";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { decodeImage } from "../../src/image/decode.ts";
import { FUZZ_RUNS } from "./_classify.ts";
import { crc32 } from "./_hostile_images.ts";

/** Per-case limit: a fixed allowance plus a budget per input byte and per decoded pixel. */
export function caseLimitMs(bytes: number, pixels: number): number {
  return 250 + bytes * 0.02 + pixels * 0.0005;
}

/** Outcome counts and the slowest case of one fuzz run. */
export interface FuzzReport {
  cases: number;
  decoded: number;
  typed: Record<string, number>;
  untyped: { error: unknown; input: Uint8Array }[];
  overTime: { ms: number; input: Uint8Array }[];
  worstMsPerByte: number;
  worstMs: number;
}

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "byte"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "duplicate"; at: number }
  | { kind: "field"; at: number; value: number }
  | { kind: "crc" };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant("byte" as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("field" as const),
    at: fc.nat(),
    value: fc.oneof(fc.nat(0xffff), fc.constantFrom(0, 1, 0x7fff, 0xffff, 7000)),
  }),
  fc.constant({ kind: "crc" as const }),
);

/** Offsets of PNG chunks or JPEG segments (start of length / marker). */
function units(bytes: Uint8Array, isPng: boolean): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let at = isPng ? 8 : 2;
  while (at + 4 <= bytes.length) {
    const length = isPng
      ? 12 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(at)
      : 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
    if (at + length > bytes.length) break;
    out.push({ start: at, end: at + length });
    if (!isPng && bytes[at + 1] === 0xda) break; // scan data follows
    at += length;
  }
  return out;
}

/** Recomputes every PNG chunk CRC, so mutated data is seen by the decoder, not the CRC check. */
function fixCrcs(bytes: Uint8Array): void {
  for (const { start, end } of units(bytes, true)) {
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(
      end - 4,
      crc32(bytes.subarray(start + 4, end - 4)),
    );
  }
}

function apply(seed: Uint8Array, mutations: Mutation[]): Uint8Array {
  const isPng = seed[0] === 0x89;
  let bytes = seed.slice();
  for (const m of mutations) {
    if (bytes.length === 0) break;
    const at = "at" in m ? m.at % bytes.length : 0;
    switch (m.kind) {
      case "flip":
        bytes[at] ^= 1 << m.bit;
        break;
      case "byte":
        bytes[at] = m.value;
        break;
      case "truncate":
        bytes = bytes.slice(0, at);
        break;
      case "duplicate": {
        const list = units(bytes, isPng);
        if (list.length === 0) break;
        const { start, end } = list[m.at % list.length];
        bytes = new Uint8Array([...bytes.subarray(0, end), ...bytes.subarray(start)]);
        break;
      }
      case "field": {
        // A 16-bit header field: PNG IHDR width/height/depth/type, JPEG SOF/SOS fields.
        const list = units(bytes, isPng);
        const header = list[m.at % Math.max(1, Math.min(list.length, 6))];
        if (!header) break;
        const offset = header.start + 4 + (m.at >> 3) % Math.max(1, header.end - header.start - 6);
        if (offset + 1 < bytes.length) {
          bytes[offset] = m.value >> 8;
          bytes[offset + 1] = m.value & 0xff;
        }
        if (isPng) fixCrcs(bytes);
        break;
      }
      case "crc":
        if (isPng) fixCrcs(bytes);
    }
  }
  return bytes;
}

/** Fuzzes `decodeImage` over `seeds` with a fixed fast-check seed; returns the figures. */
export function fuzzDecoder(seeds: Uint8Array[], fuzzSeed: number, runs = FUZZ_RUNS): FuzzReport {
  const report: FuzzReport = {
    cases: 0,
    decoded: 0,
    typed: {},
    untyped: [],
    overTime: [],
    worstMsPerByte: 0,
    worstMs: 0,
  };
  fc.assert(
    fc.property(
      fc.nat(seeds.length - 1),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (which, mutations) => {
        const input = apply(seeds[which], mutations);
        report.cases++;
        const started = performance.now();
        let pixels = 0;
        try {
          const image = decodeImage(input, { maxPixels: 50_000_000 });
          pixels = image.width * image.height;
          report.decoded++;
        } catch (error) {
          if (error instanceof VlmError) {
            report.typed[error.code] = (report.typed[error.code] ?? 0) + 1;
          } else report.untyped.push({ error, input });
        }
        const ms = performance.now() - started;
        report.worstMs = Math.max(report.worstMs, ms);
        report.worstMsPerByte = Math.max(report.worstMsPerByte, ms / Math.max(1, input.length));
        if (ms > caseLimitMs(input.length, pixels)) report.overTime.push({ ms, input });
      },
    ),
    { seed: fuzzSeed, numRuns: runs },
  );
  return report;
}

/** One line of figures for the log. */
export function summary(name: string, report: FuzzReport): string {
  const typed = Object.entries(report.typed).map(([code, n]) => `${code} ${n}`).join(", ");
  return `${name}: ${report.cases} cases, ${report.decoded} decoded, typed {${typed}}, ` +
    `${report.untyped.length} untyped, ${report.overTime.length} over time, worst ${
      report.worstMs.toFixed(1)
    } ms, worst ${(report.worstMsPerByte * 1000).toFixed(2)} µs/byte`;
}
