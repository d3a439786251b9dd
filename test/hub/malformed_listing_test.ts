// Regressions: malformed Hub answers are typed "listing_invalid" errors, never
// raw exceptions, and never mistaken for an unreachable hub (which would serve
// the cached copy without a word).
import assert from "node:assert/strict";
import { checkRepoPath } from "../../src/hub/cache_layout.ts";
import { resolveUrl } from "../../src/hub/download.ts";
import { HubError } from "../../src/hub/hub_error.ts";
import { repoFileFromEntry } from "../../src/hub/listing.ts";
import { pullModel } from "../../src/hub/pull.ts";
import { withHub } from "./_hub_server.ts";
import { standInRepo } from "./_repos.ts";

const REPO = "acme/smol";
const isInvalid = (error: unknown) =>
  error instanceof HubError && error.reason === "listing_invalid" && error.code === "model_invalid";

Deno.test("hub: null entries, odd LFS details and deep nesting are listing_invalid", () => {
  let deep: unknown = "x";
  for (let i = 0; i < 10_000; i++) deep = { oid: deep };
  const bad: unknown[] = [
    null,
    7,
    "config.json",
    [],
    { type: "file", path: "a.onnx", size: 5, lfs: 5 },
    { type: "file", path: "a.onnx", size: 5, lfs: [] },
    { type: "file", path: "a.onnx", size: 5, lfs: { oid: { toString: 1 }, size: 5 } },
    { type: "file", path: "a.onnx", size: 5, lfs: { oid: ["a".repeat(64)], size: 5 } },
    { type: "file", path: "a.onnx", size: 5, lfs: { oid: deep, size: 5 } },
    { type: "file", path: "a.onnx", size: deep },
    { type: "file", path: { toString: () => "a" }, size: 5 },
  ];
  for (const entry of bad) {
    assert.throws(() => repoFileFromEntry(REPO, entry), isInvalid, String(typeof entry));
  }
});

Deno.test("hub: a path with a lone surrogate is refused by the path check, before any URL", () => {
  for (const path of ["a\uD800.onnx", "onnx/\uDC00", "\uDBFF"]) {
    assert.throws(
      () => checkRepoPath(path),
      (error: unknown) => error instanceof HubError && error.reason === "unsafe_path",
    );
    // What the check protects: the URL builder cannot encode it.
    assert.throws(() => resolveUrl("https://hub", REPO, "c".repeat(40), path), URIError);
  }
});

Deno.test("hub: an invalid JSON or non-array listing is listing_invalid, not unreachable, even with a cached copy", async () => {
  await withHub({ [REPO]: { main: standInRepo() } }, async (hub, dir) => {
    const options = { hubUrl: hub.url, cacheDir: dir, dtype: "q4" as const };
    const first = await pullModel(REPO, options);
    assert.equal(first.fromCache, false);
    for (const body of ["{not json", '{"files": []}', "null", "[null]", '"x"']) {
      hub.faults.treeBody = body;
      await assert.rejects(pullModel(REPO, options), (error: unknown) => {
        assert.ok(isInvalid(error), `${body}: ${error}`);
        assert.match((error as Error).message, /listing of acme\/smol is malformed/);
        return true;
      });
    }
    // A hub that is really down still falls back to the complete cached copy.
    hub.faults.treeBody = undefined;
    await hub.close();
    assert.equal((await pullModel(REPO, options)).fromCache, true);
  });
});
