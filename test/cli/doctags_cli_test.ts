/** `vlm doctags` refuses input that is not DocTags: exit 1, a fix, nothing on stdout. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import { runVlm } from "./_vlm.ts";

const PERMS = ["--allow-read", "--allow-env"];

Deno.test("cli: vlm doctags refuses empty, binary, image, PDF and tag-less input with exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vlm-doctags-cli-" });
  try {
    const png = encodePng({ width: 2, height: 2, data: new Uint8Array(12), channels: 3 });
    const inputs: { name: string; bytes: Uint8Array; says: RegExp }[] = [
      { name: "empty.dt", bytes: new Uint8Array(0), says: /empty\.dt is empty, not DocTags/ },
      {
        name: "blank.dt",
        bytes: new TextEncoder().encode(" \n\t\n"),
        says: /is blank \(only whitespace\)/,
      },
      { name: "page.png", bytes: png, says: /page\.png is a PNG image, not DocTags/ },
      {
        name: "doc.pdf",
        bytes: new TextEncoder().encode("%PDF-1.7\n1 0 obj\n<< >>\nendobj\n%%EOF\n"),
        says: /doc\.pdf is a PDF document, not DocTags/,
      },
      {
        name: "noise.bin",
        bytes: new Uint8Array([0x00, 0xc3, 0x28, 0xff, 0xfe, 0x01, 0x80]),
        says: /binary data/,
      },
      {
        name: "notes.md",
        bytes: new TextEncoder().encode("# Notes\n\nPlain <b>Markdown</b>, no DocTags here.\n"),
        says: /text without any DocTags tag/,
      },
    ];
    for (const input of inputs) {
      const path = join(dir, input.name);
      await Deno.writeFile(path, input.bytes);
      for (const to of ["md", "json"]) {
        const run = await runVlm(PERMS, ["doctags", "--in", path, "--to", to]);
        assert.equal(run.code, 1, `${input.name} --to ${to}: ${run.stderr}`);
        assert.equal(run.stdout, "", `${input.name}: nothing written to stdout`);
        assert.match(run.stderr, input.says, input.name);
        assert.match(run.stderr, /\nfix: \S/, `${input.name} comes with a fix`);
      }
    }
    // With --json the error is the JSON document, code input_invalid.
    const json = await runVlm(PERMS, ["doctags", "--in", join(dir, "page.png"), "--json"]);
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.stdout).error.code, "input_invalid");
    // DocTags itself, even a page with a single location-bearing element, still converts.
    const ok = join(dir, "ok.dt");
    await Deno.writeTextFile(ok, "<doctag><text><loc_1><loc_2><loc_3><loc_4>Hi</text></doctag>");
    const run = await runVlm(PERMS, ["doctags", "--in", ok]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "Hi\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
