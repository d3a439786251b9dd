// vlm profile end to end at the reduced test scale (the full grids take minutes).
import assert from "node:assert/strict";
import { join } from "node:path";
import { runVlm } from "./_vlm.ts";

Deno.test("cli: profile writes profile.json, profile.md and three SVG charts for a grid", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "profile");
    const result = await runVlm(
      ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi"],
      ["profile", "--grid", "mobilevlm", "--scale", "test", "--runs", "1", "--out", out, "--json"],
    );
    assert.equal(result.code, 0, result.stderr);
    const profile = JSON.parse(await Deno.readTextFile(join(out, "profile.json")));
    assert.deepEqual(JSON.parse(result.stdout), profile);
    assert.equal(profile.points.length, 4);
    for (const point of profile.points) {
      assert.equal(point.measured.mode, "full");
      assert.ok(point.measured.visionMsPerTile > 0 && point.measured.decodeTokensPerSec > 0);
      assert.equal(point.tokensPerTile, 144);
    }
    const md = await Deno.readTextFile(join(out, "profile.md"));
    assert.equal(md.split("\n").filter((l) => l.startsWith("| mobilevlm")).length, 4);
    for (const chart of ["params_vs_decode.svg", "tokens_vs_ttft.svg", "memory_vs_limits.svg"]) {
      const svg = await Deno.readTextFile(join(out, chart));
      assert.equal((svg.match(/<circle /g) ?? []).length, 4, chart);
    }
    const bad = await runVlm(["--allow-read", "--allow-env", "--allow-ffi"], [
      "profile",
      "--grid",
      "nope",
      "--out",
      out,
      "--json",
    ]);
    assert.equal(bad.code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
