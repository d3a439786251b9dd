/**
 * Issue 29's hostile images: `write DIR` builds them as files, `decode FILE`
 * decodes one and prints the outcome, the time and the RSS before decoding;
 * run it under `/usr/bin/time -f %M` for the peak memory.
 *
 * @module
 */
import { decodeImage } from "../src/image/decode.ts";
import {
  lateHugeIhdrPng,
  lateIhdrPng,
  truncatedBigJpeg,
  zerosPng,
} from "../test/fuzz/_hostile_images.ts";

const seed = await Deno.readFile(
  new URL("../test/fixtures/images/sources/photo_baseline.jpg", import.meta.url),
);
const inputs: Record<string, () => Uint8Array> = {
  "late-ihdr-92": lateHugeIhdrPng,
  "late-ihdr-8000": () => lateIhdrPng(),
  "zeros-png": () => zerosPng(7000, 7000),
  "truncated-jpeg": () => truncatedBigJpeg(seed),
  "valid-png": () => zerosPng(7000, 7000, 8, 2),
};
const [command, target] = Deno.args;
if (command === "write") {
  // Built in a separate run, so building them does not count in the decoding figures.
  for (const [name, build] of Object.entries(inputs)) {
    await Deno.writeFile(`${target}/${name}.${name.includes("jpeg") ? "jpg" : "png"}`, build());
  }
} else if (command === "decode") {
  const bytes = await Deno.readFile(target);
  const idle = Deno.memoryUsage().rss;
  const started = performance.now();
  let outcome: string;
  try {
    const image = decodeImage(bytes);
    outcome = `decoded ${image.width}x${image.height}`;
  } catch (error) {
    outcome = `${(error as { code?: string }).code ?? "untyped"}: ${(error as Error).message}`;
  }
  const ms = performance.now() - started;
  console.log(
    `${target}: ${bytes.length} bytes, ${ms.toFixed(0)} ms, RSS before ${
      (idle / 2 ** 20).toFixed(0)
    } MiB; ${outcome}`,
  );
} else {
  throw new Error("usage: image_cost.ts write DIR | decode FILE");
}
