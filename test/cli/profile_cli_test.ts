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

Deno.test("cli: profile --model measures the edge peak and judges each platform from it", async () => {
  const model = new URL("../../models/tiny-smolvlm/", import.meta.url).pathname;
  const result = await runVlm(["-A"], ["profile", "--model", model, "--tokens", "4", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  const { measured, estimate } = report;
  assert.equal(measured.kind, "measured");
  assert.equal(estimate.kind, "estimate");
  assert.ok(measured.importRssBytes > 0 && measured.afterLoadBytes > measured.importRssBytes);
  assert.ok(measured.peakBytes.unsplit >= measured.afterLoadBytes);
  assert.equal(measured.unsplit.tiles, 1);
  assert.equal(measured.photo.tiles, 5);
  assert.deepEqual(
    measured.platforms.map((p: { platform: string }) => p.platform),
    ["Cloudflare Workers", "Supabase Edge Functions", "Deno Deploy"],
  );
  for (const [i, p] of measured.platforms.entries()) {
    assert.equal(p.unsplit, measured.peakBytes.unsplit <= p.limitBytes);
    assert.equal(p.photo, measured.peakBytes.photo <= p.limitBytes);
    // The estimate never says "fits" where the measurement does not.
    assert.ok(!estimate.platforms[i].photo || p.photo);
  }
  assert.ok(estimate.peakBytes.photo >= measured.peakBytes.photo);

  const clash = await runVlm(["-A"], ["profile", "--model", model, "--grid", "mobilevlm"]);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr + clash.stdout, /--grid/);
  const stray = await runVlm(["-A"], ["profile", "--grid", "mobilevlm", "--tokens", "4"]);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr + stray.stdout, /--tokens goes with --model/);
});
