/**
 * The benchmark's input images, written once per run into a folder: a 12 MP
 * 4:3 JPEG (4000×3000, quality 85, gradients plus texture so the entropy
 * coder has real work) that SmolVLM splits into 12 tiles + the global image,
 * a 512×512 PNG for the unsplit single-tile case, and a 1024×768 JPEG for
 * the edge section.
 *
 * @module
 */
import { join } from "node:path";
import jpeg from "jpeg-js";
import { encode as encodePng } from "fast-png";

/** Paths of the benchmark images. */
export interface BenchImages {
  /** 4000×3000 JPEG. */
  photo: string;
  /** 512×512 PNG. */
  square: string;
  /** 1024×768 JPEG: the edge section's photo (13 tiles split fully, 5 at the wasm default). */
  photoSmall: string;
}

function texture(width: number, height: number, channels: 3 | 4): Uint8Array {
  const pixels = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      pixels[i] = (x * 255) / width;
      pixels[i + 1] = (y * 255) / height;
      pixels[i + 2] = ((x * 7) ^ (y * 3)) & 255;
      if (channels === 4) pixels[i + 3] = 255;
    }
  }
  return pixels;
}

/** Writes the images into `dir` and returns their paths. */
export async function writeBenchImages(dir: string): Promise<BenchImages> {
  const photo = join(dir, "photo-4000x3000.jpg");
  const w = 4000;
  const h = 3000;
  await Deno.writeFile(
    photo,
    jpeg.encode({ data: texture(w, h, 4), width: w, height: h }, 85).data,
  );
  return { photo, ...await writeEdgeImages(dir) };
}

/** Writes only the edge section's two images (the 512² PNG and the 1024×768 JPEG) into `dir`. */
export async function writeEdgeImages(
  dir: string,
): Promise<Pick<BenchImages, "square" | "photoSmall">> {
  const square = join(dir, "square-512.png");
  await Deno.writeFile(
    square,
    encodePng({ width: 512, height: 512, data: texture(512, 512, 3), channels: 3 }),
  );
  const photoSmall = join(dir, "photo-1024x768.jpg");
  await Deno.writeFile(
    photoSmall,
    jpeg.encode({ data: texture(1024, 768, 4), width: 1024, height: 768 }, 85).data,
  );
  return { square, photoSmall };
}
