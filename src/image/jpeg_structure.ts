/**
 * The marker structure of a JPEG, validated before a decoder runs: every
 * segment length inside the file, exactly one frame header (SOF) and it
 * before the first scan, sane sampling factors, scans that name the frame's
 * components, an end-of-image marker, and enough entropy-coded data for the
 * declared size. libjpeg pads a short scan with grey: a 2 kB file with a
 * rewritten frame header would otherwise cost seconds and a gigabyte.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";

/** What the decoders need from a validated JPEG. */
export interface JpegStructure {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Components: 1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK. */
  components: number;
  /** A progressive (SOF2) frame. */
  progressive: boolean;
  /** Bytes of entropy-coded data over all scans. */
  entropyBytes: number;
  /** The fewest entropy-coded bytes any valid file of this frame can have. */
  minEntropyBytes: number;
}

/** `image_invalid` for a JPEG, naming what was wrong. */
export function corruptJpeg(what: string): VlmError {
  return new VlmError("image_invalid", `the JPEG image is corrupt or truncated: ${what}`, {
    fix: "re-export or re-download the file; it does not decode as a complete image",
  });
}

function unsupported(what: string): VlmError {
  return new VlmError("image_unsupported", `${what} JPEGs are not supported`, {
    fix: "re-save the image as a baseline or progressive 8-bit JPEG, or as PNG",
  });
}

/** SOF markers: baseline, extended, progressive, then the kinds no decoder here reads. */
const SOF_KIND: Readonly<Record<number, string>> = {
  0xc0: "baseline",
  0xc1: "extended",
  0xc2: "progressive",
  0xc3: "lossless",
  0xc5: "hierarchical",
  0xc6: "hierarchical",
  0xc7: "hierarchical",
  0xc9: "arithmetic-coded",
  0xca: "arithmetic-coded",
  0xcb: "arithmetic-coded",
  0xcd: "arithmetic-coded",
  0xce: "arithmetic-coded",
  0xcf: "arithmetic-coded",
};

interface Frame {
  width: number;
  height: number;
  progressive: boolean;
  ids: number[];
  sampling: [number, number][];
}

/**
 * Walks the markers of a JPEG (one pass; scan data is skipped with a native
 * search for 0xFF). Throws `image_invalid` naming the first problem and
 * `image_unsupported` for frame kinds (lossless, hierarchical, arithmetic,
 * 12-bit) the decoders do not read.
 */
export function readJpegStructure(bytes: Uint8Array): JpegStructure {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw corruptJpeg("the start-of-image marker is missing");
  }
  let frame: Frame | undefined;
  let scans = 0;
  let entropyBytes = 0;
  let offset = 2;
  for (;;) {
    if (offset >= bytes.length) {
      throw corruptJpeg("the end-of-image marker is missing (truncated file)");
    }
    if (bytes[offset] !== 0xff) throw corruptJpeg(`no marker at byte ${offset}`);
    // 0xFF fill bytes may precede a marker.
    while (offset + 1 < bytes.length && bytes[offset + 1] === 0xff) offset++;
    const marker = bytes[offset + 1];
    if (marker === undefined) throw corruptJpeg("the file ends inside a marker");
    if (marker === 0xd9) break;
    if (marker === 0xd8) throw corruptJpeg(`a second start-of-image marker at byte ${offset}`);
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2; // standalone markers carry no length
      continue;
    }
    if (offset + 4 > bytes.length) throw corruptJpeg("the file ends inside a marker segment");
    const length = (bytes[offset + 2] << 8) | bytes[offset + 3];
    const end = offset + 2 + length;
    if (length < 2 || end > bytes.length) {
      throw corruptJpeg(
        `the segment of marker 0x${
          marker.toString(16)
        } at byte ${offset} declares ${length} bytes, ${
          length < 2 ? "fewer than its length field" : `but ${bytes.length - offset - 2} remain`
        }`,
      );
    }
    const body = bytes.subarray(offset + 4, end);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (frame) throw corruptJpeg(`a second frame header (SOF) at byte ${offset}`);
      frame = readFrame(marker, body);
    } else if (marker === 0xda) {
      if (!frame) throw corruptJpeg("a scan (SOS) before the frame header (SOF)");
      checkScan(frame, body);
      scans++;
      // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart.
      let at = end;
      for (;;) {
        at = bytes.indexOf(0xff, at);
        if (at < 0 || at + 1 >= bytes.length) {
          throw corruptJpeg("the file ends inside scan data (truncated file)");
        }
        const next = bytes[at + 1];
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) at += 2;
        else if (next === 0xff) at += 1;
        else break;
      }
      entropyBytes += at - end;
      offset = at;
      continue;
    }
    offset = end;
  }
  if (!frame) throw corruptJpeg("no frame header (SOF) before the end of the data");
  if (scans === 0) throw corruptJpeg("no scan (SOS) before the end of the data");
  return {
    width: frame.width,
    height: frame.height,
    components: frame.ids.length,
    progressive: frame.progressive,
    entropyBytes,
    minEntropyBytes: minEntropyBytes(frame),
  };
}

function readFrame(marker: number, body: Uint8Array): Frame {
  const kind = SOF_KIND[marker];
  if (kind !== "baseline" && kind !== "extended" && kind !== "progressive") throw unsupported(kind);
  if (body.length < 6) throw corruptJpeg(`the frame header has ${body.length + 2} bytes`);
  const precision = body[0];
  if (precision !== 8) throw unsupported(`${precision}-bit`);
  const height = (body[1] << 8) | body[2];
  const width = (body[3] << 8) | body[4];
  const count = body[5];
  if (count < 1 || count > 4) throw corruptJpeg(`the frame declares ${count} components`);
  if (body.length !== 6 + 3 * count) {
    throw corruptJpeg(`the frame header of ${count} components has ${body.length + 2} bytes`);
  }
  const ids: number[] = [];
  const sampling: [number, number][] = [];
  for (let c = 0; c < count; c++) {
    const id = body[6 + 3 * c];
    const h = body[7 + 3 * c] >> 4;
    const v = body[7 + 3 * c] & 15;
    if (ids.includes(id)) throw corruptJpeg(`component id ${id} appears twice in the frame`);
    if (h < 1 || h > 4 || v < 1 || v > 4) {
      throw corruptJpeg(`component ${id} has sampling factors ${h}x${v} (1 to 4 allowed)`);
    }
    if (body[8 + 3 * c] > 3) {
      throw corruptJpeg(`component ${id} names quantisation table ${body[8 + 3 * c]}`);
    }
    ids.push(id);
    sampling.push([h, v]);
  }
  return { width, height, progressive: marker === 0xc2, ids, sampling };
}

function checkScan(frame: Frame, body: Uint8Array): void {
  const count = body[0] ?? 0;
  if (count < 1 || count > 4 || body.length !== 4 + 2 * count) {
    throw corruptJpeg(`a scan header declares ${count} components in ${body.length + 2} bytes`);
  }
  for (let c = 0; c < count; c++) {
    const id = body[1 + 2 * c];
    if (!frame.ids.includes(id)) {
      throw corruptJpeg(`a scan names component ${id}, not in the frame`);
    }
  }
}

/**
 * Every 8×8 block of the first component costs at least one bit in its DC
 * scan (Huffman codes are ≥ 1 bit), and in a sequential frame one more for
 * its end-of-block code: fewer bytes than that cannot hold the image.
 */
function minEntropyBytes(frame: Frame): number {
  const hMax = Math.max(...frame.sampling.map(([h]) => h));
  const vMax = Math.max(...frame.sampling.map(([, v]) => v));
  const [h, v] = frame.sampling[0];
  const blocks = Math.ceil(Math.ceil((frame.width * h) / hMax) / 8) *
    Math.ceil(Math.ceil((frame.height * v) / vMax) / 8);
  return Math.floor((blocks * (frame.progressive ? 1 : 2)) / 8);
}
