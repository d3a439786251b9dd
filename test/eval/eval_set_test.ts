// The evaluation set is regenerated from its seed, not committed: the regeneration must
// reproduce the committed manifest exactly, and any drift must be caught file by file.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CACHE_DIR,
  driftedFiles,
  EVAL_COUNT,
  evalSetDir,
  FIXTURE_DIR,
  parseSha256Sums,
  sha256Hex,
} from "./_eval_set.ts";

const manifestUrl = new URL("SHA256SUMS", FIXTURE_DIR);

Deno.test("eval set: the manifest lists labels.jsonl and every image of the set", async () => {
  const sums = parseSha256Sums(await Deno.readTextFile(manifestUrl), "SHA256SUMS");
  assert.equal(sums.size, EVAL_COUNT + 1);
  assert.ok(sums.has("labels.jsonl"));
  for (let i = 0; i < EVAL_COUNT; i++) assert.ok(sums.has(`${String(i).padStart(6, "0")}.png`));
});

Deno.test("eval set: regenerated from seed 9001, byte for byte the manifest's files", async () => {
  const dir = await evalSetDir();
  assert.equal(dir.href, CACHE_DIR.href);
  const sums = parseSha256Sums(await Deno.readTextFile(manifestUrl), "SHA256SUMS");
  assert.deepEqual(await driftedFiles(dir, sums), []);
  const labels = (await Deno.readTextFile(new URL("labels.jsonl", dir))).trim().split("\n");
  assert.equal(labels.length, EVAL_COUNT);
  // Item i has task i mod 4; the first is a reading item.
  const first = JSON.parse(labels[0]);
  assert.equal(first.image, "000000.png");
  assert.equal(first.prompt, "Read the text.");
  assert.match(first.answer, /^[A-Z0-9]{3,10}$/);
});

Deno.test("eval set: a changed or missing file is reported by name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const url = new URL(`file://${dir}/`);
    await Deno.writeTextFile(new URL("a.png", url), "one");
    await Deno.writeTextFile(new URL("b.png", url), "two");
    const sums = new Map([
      ["a.png", await sha256Hex(new TextEncoder().encode("one"))],
      ["b.png", await sha256Hex(new TextEncoder().encode("two"))],
      ["c.png", await sha256Hex(new TextEncoder().encode("three"))],
    ]);
    assert.deepEqual(await driftedFiles(url, sums), ["c.png (missing)"]);
    await Deno.writeTextFile(new URL("b.png", url), "twO");
    assert.deepEqual(await driftedFiles(url, sums), ["b.png", "c.png (missing)"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval set: parseSha256Sums reads what it is given back, and rejects malformed lines", () => {
  const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
  const name = fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/);
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(name, hex), { selector: ([n]) => n }), (entries) => {
      const text = entries.map(([n, h]) => `${h}  ${n}\n`).join("");
      assert.deepEqual([...parseSha256Sums(text, "x")], entries);
    }),
  );
  assert.throws(() => parseSha256Sums("abc  a.png\n", "SUMS"), /SUMS:1: not "SHA256 {2}NAME"/);
  const h = "0".repeat(64);
  assert.throws(() => parseSha256Sums(`${h}  a.png\n${h}  a.png\n`, "SUMS"), /a.png listed twice/);
});
