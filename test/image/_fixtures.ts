// Loads the Pillow reference fixtures made by tools/reference/image_fixtures.py.
import { decodeImage } from "../../src/image/decode.ts";
import type { RgbImage } from "../../src/image/raster.ts";

export const FIXTURES = new URL("../fixtures/images/", import.meta.url);

export interface ImageManifest {
  pil: string;
  sources: {
    file: string;
    format: "png" | "jpeg";
    mode: string;
    width: number;
    height: number;
    orientation: number | null;
    decoded: string;
  }[];
  resize: {
    id: string;
    source: string;
    width: number;
    height: number;
    filter: "lanczos" | "bicubic";
    expected: string;
  }[];
  processor: {
    case: string;
    source: string;
    longestEdge: number;
    tileSize: number;
    split: boolean;
    resized: { width: number; height: number };
    rows: number;
    cols: number;
    images: number;
    pixels?: string;
    sha256: string;
  }[];
  bad: { file: string; reason: string }[];
}

export const manifest: ImageManifest = JSON.parse(
  await Deno.readTextFile(new URL("manifest.json", FIXTURES)),
);

export function fixtureBytes(path: string): Promise<Uint8Array> {
  return Deno.readFile(new URL(path, FIXTURES));
}

/** Reads a lossless RGB PNG fixture. */
export async function fixtureImage(path: string): Promise<RgbImage> {
  return decodeImage(await fixtureBytes(path));
}

/** Mean and max absolute difference of two same-size images, in grey levels. */
export function difference(a: RgbImage, b: RgbImage): { mean: number; max: number } {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`size ${a.width}x${a.height} != ${b.width}x${b.height}`);
  }
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / a.data.length, max };
}
