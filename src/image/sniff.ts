/**
 * Format detection and size reading from a validated structure (every PNG
 * chunk, every JPEG marker), so an image can be refused (unsupported format,
 * corrupt, too many pixels) before any pixel buffer is allocated.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { readJpegStructure } from "./jpeg_structure.ts";
import { isPng, readPngStructure } from "./png_chunks.ts";

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

/**
 * Identifies the format from magic bytes. Throws `image_invalid` for empty
 * data and `image_unsupported` for anything but PNG and JPEG.
 */
export function readImageFormat(bytes: Uint8Array): ImageFormat {
  if (bytes.length === 0) {
    throw new VlmError("image_invalid", "the image is empty (0 bytes)", {
      fix: "check the path or URL; the file has no content",
    });
  }
  if (isPng(bytes)) return "png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  const known = KNOWN_UNSUPPORTED.find((f) => startsWith(bytes, f.magic, f.offset));
  throw new VlmError(
    "image_unsupported",
    known
      ? `${known.name} images are not supported`
      : "the data is not a PNG or JPEG image (unrecognised signature)",
    { fix: "convert the image to PNG or JPEG" },
  );
}

/**
 * Identifies the format from magic bytes and reads the stored size after
 * validating the file's structure (one pass over the bytes, no pixels).
 * Throws `image_unsupported` for other formats and `image_invalid` for
 * empty or malformed files.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  const format = readImageFormat(bytes);
  const { width, height } = format === "png" ? readPngStructure(bytes) : readJpegStructure(bytes);
  return { format, width, height };
}
