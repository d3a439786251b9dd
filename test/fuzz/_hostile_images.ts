// Builders for the hostile images of issue 29: each is constructed from scratch (no stored
// blobs), so the test says exactly which header field lies.
import { deflateSync } from "node:zlib";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG uses it, over `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk with a correct length and CRC. */
export function pngChunk(type: string, data: Uint8Array | number[] = []): Uint8Array {
  const body = new Uint8Array(4 + data.length);
  for (let i = 0; i < 4; i++) body[i] = type.charCodeAt(i);
  body.set(data, 4);
  const out = new Uint8Array(8 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(body, 4);
  view.setUint32(8 + data.length, crc32(body));
  return out;
}

/** IHDR data: size, bit depth, colour type, interlace. */
export function ihdr(
  width: number,
  height: number,
  depth = 8,
  colorType = 2,
  interlace = 0,
): Uint8Array {
  const data = new Uint8Array(13);
  const view = new DataView(data.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  data.set([depth, colorType, 0, 0, interlace], 8);
  return pngChunk("IHDR", data);
}

/** Signature then the chunks, concatenated. */
export function png(...chunks: Uint8Array[]): Uint8Array {
  const total = 8 + chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  out.set(PNG_SIGNATURE);
  let offset = 8;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** zlib-compressed bytes. */
export function zlib(raw: Uint8Array): Uint8Array {
  return new Uint8Array(deflateSync(raw, { level: 9 }));
}

/**
 * The 92-byte PNG: a 1×1 IHDR first (what the header check read), then a second
 * IHDR of 2^31−1 × 1 (what the decoder used), and one row of image data.
 */
export function lateHugeIhdrPng(): Uint8Array {
  return png(
    ihdr(1, 1),
    ihdr(0x7fffffff, 1),
    pngChunk("IDAT", zlib(new Uint8Array([0, 0, 0, 0]))),
    pngChunk("IEND"),
  );
}

/**
 * The late-IHDR PNG: a 64×64 IHDR, then an 8000×8000 greyscale one with its
 * complete (all-zero) image data: 64 MP from ~62 kB, whatever `maxPixels` says.
 */
export function lateIhdrPng(width = 8000, height = 8000): Uint8Array {
  return png(
    ihdr(64, 64, 8, 0),
    ihdr(width, height, 8, 0),
    pngChunk("IDAT", zlib(new Uint8Array(height * (1 + width)))),
    pngChunk("IEND"),
  );
}

/** A valid PNG whose samples are all zero (highly compressible: large pixels per byte). */
export function zerosPng(width: number, height: number, depth = 16, colorType = 6): Uint8Array {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType as 0 | 2 | 4 | 6];
  const rowBytes = Math.ceil((width * channels * depth) / 8);
  return png(
    ihdr(width, height, depth, colorType),
    pngChunk("IDAT", zlib(new Uint8Array(height * (1 + rowBytes)))),
    pngChunk("IEND"),
  );
}

/** Offset of the frame header (SOF0/SOF2 marker) of a JPEG. */
function sofOffset(bytes: Uint8Array): number {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    const marker = bytes[offset + 1];
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) return offset;
    offset += 2 + ((bytes[offset + 2] << 8) | bytes[offset + 3]);
  }
  throw new Error("no SOF in the seed JPEG");
}

/** Offset just past the start-of-scan header. */
function scanDataOffset(bytes: Uint8Array): number {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    const marker = bytes[offset + 1];
    const length = (bytes[offset + 2] << 8) | bytes[offset + 3];
    if (marker === 0xda) return offset + 2 + length;
    offset += 2 + length;
  }
  throw new Error("no SOS in the seed JPEG");
}

/**
 * The truncated JPEG: a real JPEG whose frame header is rewritten to
 * `width`×`height` and whose scan data is cut after `keep` bytes, then an
 * end-of-image marker (it used to decode "ok" to a large grey picture).
 */
export function truncatedBigJpeg(
  seed: Uint8Array,
  width = 7000,
  height = 7000,
  keep = 1500,
): Uint8Array {
  const sof = sofOffset(seed);
  const scan = scanDataOffset(seed);
  const out = new Uint8Array([...seed.subarray(0, scan + keep), 0xff, 0xd9]);
  out[sof + 5] = height >> 8;
  out[sof + 6] = height & 0xff;
  out[sof + 7] = width >> 8;
  out[sof + 8] = width & 0xff;
  return out;
}
