// One-thread memory bandwidth inside WebAssembly, measured the same way in any host (the
// wasm-anchor page in Chromium; tools/bench/wasm_gap.ts under Deno): a buffer far larger than the
// caches, copied with `memory.copy` and read with 128-bit SIMD loads, in a module of its own. The
// copy rate counts every byte read and written, as tools/machine_limits.ts does; the read rate
// counts bytes loaded, which is what a decode step's weights cost.
//
// The module's bytes are wat2wasm's output for this text:
// (module
//   (memory (export "memory") 1)
//   (func (export "copy") (param $dst i32) (param $src i32) (param $n i32)
//     (memory.copy (local.get $dst) (local.get $src) (local.get $n)))
//   (func (export "read") (param $p i32) (param $n i32) (result i32)
//     (local $end i32) (local $a v128) (local $b v128) (local $c v128) (local $d v128)
//     (local.set $end (i32.add (local.get $p) (local.get $n)))
//     (block $done
//       (loop $next
//         (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
//         (local.set $a (v128.or (local.get $a) (v128.load offset=0 (local.get $p))))
//         (local.set $b (v128.or (local.get $b) (v128.load offset=16 (local.get $p))))
//         (local.set $c (v128.or (local.get $c) (v128.load offset=32 (local.get $p))))
//         (local.set $d (v128.or (local.get $d) (v128.load offset=48 (local.get $p))))
//         (local.set $p (i32.add (local.get $p) (i32.const 64)))
//         (br $next)))
//     (i32x4.extract_lane 0
//       (v128.or (v128.or (local.get $a) (local.get $b)) (v128.or (local.get $c) (local.get $d))))))
const MODULE = new Uint8Array([
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  13,
  2,
  96,
  3,
  127,
  127,
  127,
  0,
  96,
  2,
  127,
  127,
  1,
  127,
  3,
  3,
  2,
  0,
  1,
  5,
  3,
  1,
  0,
  1,
  7,
  24,
  3,
  6,
  109,
  101,
  109,
  111,
  114,
  121,
  2,
  0,
  4,
  99,
  111,
  112,
  121,
  0,
  0,
  4,
  114,
  101,
  97,
  100,
  0,
  1,
  10,
  116,
  2,
  12,
  0,
  32,
  0,
  32,
  1,
  32,
  2,
  252,
  10,
  0,
  0,
  11,
  101,
  2,
  1,
  127,
  4,
  123,
  32,
  0,
  32,
  1,
  106,
  33,
  2,
  2,
  64,
  3,
  64,
  32,
  0,
  32,
  2,
  79,
  13,
  1,
  32,
  3,
  32,
  0,
  253,
  0,
  4,
  0,
  253,
  80,
  33,
  3,
  32,
  4,
  32,
  0,
  253,
  0,
  4,
  16,
  253,
  80,
  33,
  4,
  32,
  5,
  32,
  0,
  253,
  0,
  4,
  32,
  253,
  80,
  33,
  5,
  32,
  6,
  32,
  0,
  253,
  0,
  4,
  48,
  253,
  80,
  33,
  6,
  32,
  0,
  65,
  192,
  0,
  106,
  33,
  0,
  12,
  0,
  11,
  11,
  32,
  3,
  32,
  4,
  253,
  80,
  32,
  5,
  32,
  6,
  253,
  80,
  253,
  80,
  253,
  27,
  0,
  11,
]);

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const PAGE = 65536;

/**
 * Copy and read rates (bytes per second, medians of `runs`) over a `megabytes`-sized buffer in a
 * fresh wasm memory; the pages are touched once before timing.
 */
export async function wasmBandwidth({ megabytes = 256, runs = 5 } = {}) {
  const { instance } = await WebAssembly.instantiate(MODULE);
  const { memory, copy, read } = instance.exports;
  const bytes = Math.ceil((megabytes * 1e6) / PAGE) * PAGE;
  memory.grow((2 * bytes) / PAGE);
  new Uint8Array(memory.buffer, PAGE, 2 * bytes).fill(1);
  const src = PAGE;
  const dst = PAGE + bytes;
  copy(dst, src, bytes);
  read(src, bytes);
  const copies = [];
  const reads = [];
  let sink = 0;
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    copy(dst, src, bytes);
    copies.push((2 * bytes) / ((performance.now() - t) / 1000));
    t = performance.now();
    sink |= read(src, bytes);
    reads.push(bytes / ((performance.now() - t) / 1000));
  }
  if (sink !== 1 && sink !== 0x01010101) {
    throw new Error(`the read loop returned ${sink}`);
  }
  return {
    bufferBytes: bytes,
    copyBytesPerSec: median(copies),
    readBytesPerSec: median(reads),
  };
}
