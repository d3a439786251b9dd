/**
 * Format detection and header-only size reading, so an image can be refused
 * (unsupported format, too many pixels) before any pixel buffer is allocated.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";

/** Image formats vlmkit decodes. */
export type ImageFormat = "png" | "jpeg";

/** What the header says about an image. */
export interface ImageHeader {
  /** Container format. */
  format: ImageFormat;
  /** Stored width (before any EXIF rotation). */
  width: number;
  /** Stored height (before any EXIF rotation). */
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Signatures of formats people commonly pass by mistake, for a helpful message. */
const KNOWN_UNSUPPORTED: ReadonlyArray<{ name: string; magic: number[]; offset?: number }> = [
  { name: "GIF", magic: [0x47, 0x49, 0x46, 0x38] },
  { name: "WebP", magic: [0x57, 0x45, 0x42, 0x50], offset: 8 },
  { name: "BMP", magic: [0x42, 0x4d] },
  { name: "TIFF", magic: [0x49, 0x49, 0x2a, 0x00] },
  { name: "TIFF", magic: [0x4d, 0x4d, 0x00, 0x2a] },
  { name: "PDF", magic: [0x25, 0x50, 0x44, 0x46] },
];

function startsWith(bytes: Uint8Array, magic: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + magic.length) return false;
  return magic.every((byte, i) => bytes[offset + i] === byte);
}

function corrupt(format: string, what: string): VlmError {
  return new VlmError("image_invalid", `the ${format} image is corrupt or truncated: ${what}`, {
    fix: "re-export or re-download the file; it does not decode as a complete image",
  });
}

/** SOF markers that carry the frame size (baseline, extended, progressive, lossless, arithmetic). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
    marker !== 0xcc;
}

/** The first frame header (SOFn) of a JPEG: size and component count (1 grey, 3 YCbCr, 4 CMYK). */
export function readJpegFrame(
  bytes: Uint8Array,
): { width: number; height: number; components: number } {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) throw corrupt("JPEG", `no marker at byte ${offset}`);
    const marker = bytes[offset + 1];
    // Fill bytes and standalone markers carry no length.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    const length = (bytes[offset + 2] << 8) | bytes[offset + 3];
    if (isStartOfFrame(marker)) {
      if (offset + 10 > bytes.length) break;
      const height = (bytes[offset + 5] << 8) | bytes[offset + 6];
      const width = (bytes[offset + 7] << 8) | bytes[offset + 8];
      return { width, height, components: bytes[offset + 9] };
    }
    offset += 2 + length;
  }
  throw corrupt("JPEG", "no frame header (SOF) before the end of the data");
}

/**
 * Identifies the format from magic bytes and reads the stored size from the
 * header. Throws `image_unsupported` for other formats and `image_invalid`
 * for empty or malformed headers.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length === 0) {
    throw new VlmError("image_invalid", "the image is empty (0 bytes)", {
      fix: "check the path or URL; the file has no content",
    });
  }
  if (startsWith(bytes, PNG_SIGNATURE)) {
    // IHDR is the first chunk: length(4) type(4) width(4) height(4).
    if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") {
      throw corrupt("PNG", "the IHDR header is missing");
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { format: "png", width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) {
    const { width, height } = readJpegFrame(bytes);
    return { format: "jpeg", width, height };
  }
  const known = KNOWN_UNSUPPORTED.find((f) => startsWith(bytes, f.magic, f.offset));
  throw new VlmError(
    "image_unsupported",
    known
      ? `${known.name} images are not supported`
      : "the data is not a PNG or JPEG image (unrecognised signature)",
    { fix: "convert the image to PNG or JPEG" },
  );
}
