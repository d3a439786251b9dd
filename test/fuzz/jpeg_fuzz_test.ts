// Mutation fuzzing of the JPEG decoders over the JPEG seed files (see _image_fuzz.ts).
import assert from "node:assert/strict";
import { fuzzDecoder, summary } from "./_image_fuzz.ts";

const SOURCES = new URL("../fixtures/images/sources/", import.meta.url);
const seeds: Uint8Array[] = [];
for await (const entry of Deno.readDir(SOURCES)) {
  if (entry.name.endsWith(".jpg")) seeds.push(await Deno.readFile(new URL(entry.name, SOURCES)));
}

Deno.test("fuzz: mutated JPEGs decode or fail with a typed error, each within its time limit", () => {
  assert.ok(seeds.length >= 10, "the JPEG seeds are there");
  const report = fuzzDecoder(seeds, 0x29_02);
  console.log(summary("jpeg", report));
  assert.deepEqual(report.untyped.map((u) => String(u.error)), []);
  assert.deepEqual(
    report.overTime.map((o) => `${o.ms.toFixed(0)} ms, ${o.input.length} bytes`),
    [],
  );
  assert.ok(report.decoded > 0 && Object.keys(report.typed).length > 0, "both outcomes occur");
});
