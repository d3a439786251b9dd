/**
 * The assembled DoclingDocument JSON type-checks against the TypeScript types
 * docling publishes on npm (`@docling/docling-core` 0.0.6, generated from
 * docling-core's pydantic models of docling 2.30).
 *
 * The JSON is written into a `.ts` file as an object literal assigned to
 * `DoclingDocument`, so `deno check` rejects any missing required field, any
 * mistyped value and any property the types do not know. Four fields that
 * docling-core added after 2.30 and that its current output (schema 1.10.0,
 * the conformance vectors) carries are removed first, each only where the
 * newer schema puts it: `TableCell.fillable`, `TableData.orientation`,
 * `TableItem.annotations` and `PictureItem.meta`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assembleDocument, type DocumentPage } from "../../../plugins/doctags/mod.ts";
import { createRgbImage } from "../../../src/image/raster.ts";
import { CASES, input } from "./_conformance.ts";

const CONFIG = new URL("../../../deno.json", import.meta.url).pathname;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Removes the fields docling-core added after the published types. */
function withoutNewerFields(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutNewerFields);
  if (value === null || typeof value !== "object") return value;
  const newer = (key: string) =>
    (key === "fillable" && "row_span" in value) ||
    (key === "orientation" && "table_cells" in value) ||
    (key === "annotations" && value.label === "table") ||
    (key === "meta" && value.label === "picture");
  return Object.fromEntries(
    Object.entries(value).filter(([k]) => !newer(k)).map(([k, v]) => [k, withoutNewerFields(v)]),
  );
}

async function typeCheck(documents: { name: string; json: unknown }[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "docling-types-" });
  try {
    const file = join(dir, "documents.ts");
    const body = documents.map(({ name, json }) =>
      `export const ${name}: DoclingDocument = ${
        JSON.stringify(withoutNewerFields(json as Json), null, 1)
      };`
    ).join("\n");
    await Deno.writeTextFile(
      file,
      `import type { DoclingDocument } from "@docling/docling-core";\n${body}\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--config", CONFIG, file],
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    return out.success ? "" : text;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("DoclingDocument JSON type-checks against @docling/docling-core's types", async () => {
  // Every non-crashing vector as one page each: text, lists, inline groups,
  // code, formulas, tables, charts, pictures with classes, key-value regions.
  const texts = CASES.filter((c) => c.mode === "single" && !c.id.startsWith("crash_"))
    .map(input);
  const pages = (image: boolean): DocumentPage[] =>
    texts.map((doctags, i) => ({
      pageNo: i + 1,
      doctags,
      size: { width: 612, height: 792 },
      image: image ? createRgbImage(153, 198) : undefined,
    }));
  const withImages = assembleDocument(pages(true));
  const withoutImages = assembleDocument(pages(false));
  assert.ok(withImages.pictures.length >= 5, "pictures carry image references");
  const errors = await typeCheck([
    { name: "withImages", json: withImages.json },
    { name: "withoutImages", json: withoutImages.json },
  ]);
  assert.equal(errors, "", errors);

  // The check is real: a mistyped field fails it.
  const broken = structuredClone(withImages.json) as {
    pages: Record<string, { page_no: unknown }>;
  };
  broken.pages["1"].page_no = "one";
  assert.match(await typeCheck([{ name: "broken", json: broken }]), /TS2322/);
});
