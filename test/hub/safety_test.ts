// Listings come from whoever controls the repo or the mirror: paths that would
// escape the cache are refused before anything is written, and malformed
// entries are named.
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkRepoPath } from "../../src/hub/cache_layout.ts";
import { HubError } from "../../src/hub/hub_error.ts";
import { pullModel } from "../../src/hub/pull.ts";
import { gitBlobId, withHub } from "./_hub_server.ts";
import { listTree, standInRepo } from "./_repos.ts";

const REPO = "acme/smol";

function entry(path: string, extra: Record<string, unknown> = {}) {
  const bytes = new TextEncoder().encode("pwned");
  return { type: "file", path, size: bytes.length, oid: gitBlobId(bytes), ...extra };
}

Deno.test("safety: listings with escaping paths are refused and nothing is written", async () => {
  await withHub({ [REPO]: { main: standInRepo() } }, async (hub, dir) => {
    const cache = join(dir, "cache");
    const outside = join(dir, "evil.onnx");
    const malicious = [
      "../../evil.onnx",
      "onnx/../../../evil.onnx",
      outside, // absolute
      "onnx\\..\\..\\evil.onnx",
      "C:/evil.onnx",
      "onnx//decoder.onnx",
      "./config.json",
      "config.json\u0000.onnx",
    ];
    for (const path of malicious) {
      hub.faults.extraEntries = [entry(path)];
      await assert.rejects(
        pullModel(REPO, { hubUrl: hub.url, cacheDir: cache, dtype: "q4" }),
        (error: unknown) => {
          assert.ok(error instanceof HubError, `${path}: ${error}`);
          assert.equal(error.reason, "unsafe_path", path);
          assert.ok(error.message.includes(JSON.stringify(path)), error.message);
          return true;
        },
      );
    }
    assert.deepEqual(await listTree(dir), [], "a refused listing left files");
    assert.deepEqual(hub.resolvedFiles(), []);
    // A malicious directory entry is refused the same way.
    hub.faults.extraEntries = [{ type: "directory", path: "../up", size: 0, oid: "" }];
    await assert.rejects(
      pullModel(REPO, { hubUrl: hub.url, cacheDir: cache, dtype: "q4" }),
      (error: unknown) => error instanceof HubError && error.reason === "unsafe_path",
    );
  });
});

Deno.test("safety: malformed entries (sizes, LFS oids, duplicates) are refused", async () => {
  await withHub({ [REPO]: { main: standInRepo() } }, async (hub, dir) => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [entry("x.bin", { size: -1 }), /x\.bin has size -1/],
      [entry("x.bin", { size: "12" }), /x\.bin has size "12"/],
      [entry("x.onnx", { lfs: { oid: "abc", size: 5, pointerSize: 1 } }), /LFS oid "abc"/],
      [entry("config.json"), /config\.json is listed twice/],
    ];
    for (const [bad, pattern] of cases) {
      hub.faults.extraEntries = [bad];
      await assert.rejects(
        pullModel(REPO, { hubUrl: hub.url, cacheDir: dir, dtype: "q4" }),
        (error: unknown) => {
          assert.ok(error instanceof HubError && error.reason === "listing_invalid", `${error}`);
          assert.match(error.message, pattern);
          return true;
        },
      );
    }
  });
});

Deno.test("safety: checkRepoPath accepts nested repo paths and refuses escapes", () => {
  for (const path of ["config.json", "onnx/decoder_model_merged_q4.onnx", "a/b.c/d..e"]) {
    assert.equal(checkRepoPath(path), path);
  }
  for (const path of ["", "/etc/passwd", "..", "a/../../b", "a\\b", "D:x", "a/./b", "a/", "\n"]) {
    assert.throws(
      () => checkRepoPath(path),
      (error: unknown) => error instanceof HubError && error.reason === "unsafe_path",
      JSON.stringify(path),
    );
  }
});
