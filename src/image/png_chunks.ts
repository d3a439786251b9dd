/**
 * The chunk structure of a PNG, validated before any pixel is decoded: IHDR
 * first and only once, every length inside the file, every CRC right, the
 * critical chunks in their order (PLTE before the one run of IDAT, IEND
 * last), and only the bit depth / colour type pairs the format defines. The
 * header the pixel limit is checked against is then the one the decoder uses.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";

/** What the decoder needs from a validated PNG. */
export interface PngStructure {
  /** Width in pixels (1 … 2^31−1). */
  width: number;
  /** Height in pixels (1 … 2^31−1). */
  height: number;
  /** Bits per sample: 1, 2, 4, 8 or 16 (as allowed for the colour type). */
  depth: number;
  /** 0 grey, 2 RGB, 3 indexed, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  /** Samples per pixel (1 for indexed). */
  channels: number;
  /** Adam7 interlacing. */
  interlaced: boolean;
  /** PLTE entries as RGB triples (indexed images; may be present otherwise). */
  palette?: Uint8Array;
  /** tRNS data when its length fits the colour type (ignored otherwise, as libpng does). */
  transparency?: Uint8Array;
  /** The IDAT payloads, in order (views into the input). */
  data: Uint8Array[];
  /** Total bytes of `data`. */
  dataBytes: number;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Bit depths each colour type allows (PNG spec, table 11.1). */
const DEPTHS: Readonly<Record<number, readonly number[]>> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(bytes: Uint8Array, from: number, to: number): number {
  let c = -1;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** `image_invalid` for a PNG, naming what was wrong. */
export function corruptPng(what: string): VlmError {
  return new VlmError("image_invalid", `the PNG image is corrupt or truncated: ${what}`, {
    fix: "re-export or re-download the file; it does not decode as a complete image",
  });
}

function chunkName(bytes: Uint8Array, at: number): string {
  let name = "";
  for (let i = at; i < at + 4; i++) {
    const c = bytes[i];
    // Chunk types are four ASCII letters; anything else is printed as a code.
    name += (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? String.fromCharCode(c) : `\\x${c}`;
  }
  return name;
}

function isLetters(bytes: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 4; i++) {
    const c = bytes[i];
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
  }
  return true;
}

/** Whether `bytes` start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * Walks every chunk of a PNG and checks the structure (see the module doc).
 * Work is one pass over the bytes. Throws `image_invalid` naming the first
 * problem, `image_unsupported` for an unknown critical chunk.
 */
export function readPngStructure(bytes: Uint8Array): PngStructure {
  if (!isPng(bytes)) throw corruptPng("the PNG signature is missing");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Omit<PngStructure, "data" | "dataBytes"> | undefined;
  const data: Uint8Array[] = [];
  let dataBytes = 0;
  let idatEnded = false; // a chunk other than IDAT came after the IDAT run
  let offset = 8;
  let ended = false;
  while (offset < bytes.length) {
    if (offset + 12 > bytes.length) {
      throw corruptPng(`the file ends inside a chunk header at byte ${offset}`);
    }
    const length = view.getUint32(offset);
    if (!isLetters(bytes, offset + 4)) {
      throw corruptPng(
        `the chunk at byte ${offset} has an invalid type ${chunkName(bytes, offset + 4)}`,
      );
    }
    const type = chunkName(bytes, offset + 4);
    const end = offset + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) {
      throw corruptPng(
        `chunk ${type} at byte ${offset} declares ${length} bytes, but only ${
          Math.max(0, bytes.length - offset - 12)
        } remain`,
      );
    }
    const body = offset + 8;
    if (crc32(bytes, offset + 4, body + length) !== view.getUint32(body + length)) {
      throw corruptPng(`chunk ${type} at byte ${offset} fails its CRC check`);
    }
    if (!header && type !== "IHDR") throw corruptPng(`the first chunk is ${type}, not IHDR`);
    if (type !== "IDAT" && data.length > 0) idatEnded = true;
    switch (type) {
      case "IHDR":
        if (header) throw corruptPng(`a second IHDR chunk at byte ${offset}`);
        header = readHeader(bytes, view, body, length);
        break;
      case "PLTE": {
        if (header!.palette) throw corruptPng("a second PLTE chunk");
        if (data.length > 0) throw corruptPng("the PLTE chunk comes after the image data");
        if (header!.colorType === 0 || header!.colorType === 4) {
          throw corruptPng(`a PLTE chunk in a greyscale image (colour type ${header!.colorType})`);
        }
        if (length === 0 || length % 3 !== 0 || length / 3 > 256) {
          throw corruptPng(`the PLTE chunk has ${length} bytes (3 per entry, 1 to 256 entries)`);
        }
        if (header!.colorType === 3 && length / 3 > 2 ** header!.depth) {
          throw corruptPng(
            `the PLTE chunk has ${length / 3} entries, more than ${
              header!.depth
            }-bit indices reach`,
          );
        }
        header!.palette = bytes.subarray(body, body + length);
        break;
      }
      case "tRNS":
        // Ancillary: out of place or of the wrong size it is ignored, as libpng (and Pillow) do.
        if (data.length === 0 && transparencyFits(header!, length)) {
          header!.transparency = bytes.subarray(body, body + length);
        }
        break;
      case "IDAT":
        if (idatEnded) throw corruptPng(`the image data (IDAT) is split by other chunks`);
        if (header!.colorType === 3 && !header!.palette) {
          throw corruptPng("an indexed-colour image without a PLTE chunk");
        }
        data.push(bytes.subarray(body, body + length));
        dataBytes += length;
        break;
      case "IEND":
        if (length !== 0) throw corruptPng(`the IEND chunk has ${length} bytes of data`);
        ended = true;
        break;
      default:
        // Bit 5 of the first letter clear: a critical chunk this decoder does not know.
        if ((bytes[offset + 4] & 0x20) === 0) {
          throw new VlmError(
            "image_unsupported",
            `the PNG uses a critical chunk ${type} that this decoder does not know`,
            { fix: "re-save the image as a standard PNG" },
          );
        }
    }
    offset = end;
    if (ended) break; // bytes after IEND are ignored, as every decoder does
  }
  if (!header) throw corruptPng("the IHDR header is missing");
  if (data.length === 0) throw corruptPng("there is no image data (IDAT chunk)");
  return { ...header, data, dataBytes };
}

function readHeader(
  bytes: Uint8Array,
  view: DataView,
  body: number,
  length: number,
): Omit<PngStructure, "data" | "dataBytes"> {
  if (length !== 13) throw corruptPng(`the IHDR chunk has ${length} bytes, not 13`);
  const width = view.getUint32(body);
  const height = view.getUint32(body + 4);
  const [depth, colorType, compression, filter, interlace] = bytes.subarray(body + 8, body + 13);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw corruptPng(`the IHDR header declares a ${width}x${height} image`);
  }
  const depths = DEPTHS[colorType];
  if (!depths) throw corruptPng(`colour type ${colorType} does not exist`);
  if (!depths.includes(depth)) {
    throw corruptPng(`bit depth ${depth} is not allowed with colour type ${colorType}`);
  }
  if (compression !== 0) throw corruptPng(`compression method ${compression} does not exist`);
  if (filter !== 0) throw corruptPng(`filter method ${filter} does not exist`);
  if (interlace > 1) throw corruptPng(`interlace method ${interlace} does not exist`);
  return {
    width,
    height,
    depth,
    colorType,
    channels: CHANNELS[colorType],
    interlaced: interlace === 1,
  };
}

function transparencyFits(header: Omit<PngStructure, "data" | "dataBytes">, length: number) {
  if (header.colorType === 0) return length === 2;
  if (header.colorType === 2) return length === 6;
  if (header.colorType === 3) return !!header.palette && length <= header.palette.length / 3;
  return false; // an alpha channel already says it
}
