// pullModel against the local Hub-compatible server: a runnable pull, file
// selection by dtype, progress, the cache on a second pull and offline,
// revision pinning, tokens, paginated listings and modular repos.
import assert from "node:assert/strict";
import { join } from "node:path";
import { synthesize } from "../../src/build/synthesize.ts";
import { HubError } from "../../src/hub/hub_error.ts";
import type { PullProgress } from "../../src/hub/progress.ts";
import { pullModel } from "../../src/hub/pull.ts";
import { resolveHfSource } from "../../src/hub/hf_source.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { getPreset } from "../../variants/mod.ts";
import { commitOf, sha256, withHub } from "./_hub_server.ts";
import { bytesOf, listTree, runnableRepo, standInRepo } from "./_repos.ts";

const IMAGE = new URL("../fixtures/images/sources/rgb_noise.png", import.meta.url).pathname;
const REPO = "acme/smol";

function assertHubError(reason: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof HubError, `expected a HubError, got ${error}`);
    assert.equal(error.reason, reason, error.message);
    if (pattern) assert.match(`${error.message}\n${error.fix}`, pattern);
    return true;
  };
}

Deno.test("pull: a q4 pull fetches only the q4 files, and the folder loads and generates", async () => {
  const files = runnableRepo();
  await withHub({ [REPO]: { main: files } }, async (hub, dir) => {
    const events: PullProgress[] = [];
    const pulled = await pullModel(REPO, {
      hubUrl: hub.url,
      cacheDir: dir,
      dtype: "q4",
      onProgress: (event) => events.push({ ...event }),
    });
    const paths = pulled.files.map((file) => file.path).sort();
    assert.deepEqual(paths.filter((path) => path.endsWith(".onnx")), [
      "onnx/decoder_model_merged_q4.onnx",
      "onnx/embed_tokens_q4.onnx",
      "onnx/vision_encoder_q4.onnx",
    ]);
    // Nothing else was requested or written: no fp32 weights.
    assert.deepEqual([...hub.resolvedFiles()].sort(), paths);
    assert.deepEqual(await listTree(pulled.path), paths);
    for (const path of paths) {
      assert.equal(
        sha256(await Deno.readFile(join(pulled.path, path))),
        sha256(bytesOf(files, path)),
      );
    }
    assert.equal(pulled.commit, commitOf(REPO, "main"));
    assert.deepEqual(pulled.downloaded.sort(), paths);

    // Progress: the total is the listed size from the first event; counts only grow.
    const total = paths.reduce((sum, path) => sum + bytesOf(files, path).length, 0);
    assert.equal(pulled.bytes, total);
    assert.ok(events.length > paths.length, `${events.length} events`);
    assert.ok(events.every((event) => event.total === total && event.fileCount === paths.length));
    for (let i = 1; i < events.length; i++) {
      assert.ok(events[i].bytes >= events[i - 1].bytes, `bytes went back at event ${i}`);
      assert.ok(events[i].filesDone >= events[i - 1].filesDone);
    }
    assert.ok(events.every((e) => e.fileBytes <= e.fileTotal && e.bytes <= e.total));
    assert.equal(events.at(-1)!.bytes, total);
    assert.equal(events.at(-1)!.filesDone, paths.length);

    const model = await loadModel(pulled.path, { dtype: "q4" });
    try {
      const out = await model.generate({
        prompt: "Describe the image.",
        images: [IMAGE],
        maxNewTokens: 3,
        stopTokenIds: [],
      });
      assert.equal(out.tokenIds.length, 3);
    } finally {
      await model.dispose();
    }
  });
});

Deno.test("pull: per-module dtypes pick one file per module; external data comes along", async () => {
  const files = standInRepo();
  await withHub({ [REPO]: { main: files } }, async (hub, dir) => {
    const pulled = await pullModel(REPO, {
      hubUrl: hub.url,
      cacheDir: dir,
      dtype: { vision_encoder: "q4", embed_tokens: "q4" },
    });
    assert.deepEqual(pulled.files.map((f) => f.path).filter((p) => p.startsWith("onnx/")), [
      "onnx/vision_encoder_q4.onnx",
      "onnx/embed_tokens_q4.onnx",
      "onnx/decoder_model_merged.onnx",
      "onnx/decoder_model_merged.onnx_data",
    ]);
    assert.ok(!hub.resolvedFiles().includes("README.md"));
    assert.ok(!hub.resolvedFiles().includes("onnx/model.onnx"));
  });
});

Deno.test("pull: a dtype the repo lacks fails before downloading and names the dtypes it has", async () => {
  await withHub({ [REPO]: { main: standInRepo() } }, async (hub, dir) => {
    await assert.rejects(
      pullModel(REPO, { hubUrl: hub.url, cacheDir: dir, dtype: "fp16" }),
      assertHubError("incomplete_repo", /vision_encoder_fp16\.onnx[\s\S]*fp32, q4/),
    );
    assert.deepEqual(hub.resolvedFiles(), []);
  });
});

Deno.test("pull: a second pull uses the cache; a pinned commit needs no hub; offline works", async () => {
  const files = standInRepo();
  await withHub({ [REPO]: { main: files } }, async (hub, dir) => {
    const options = { hubUrl: hub.url, cacheDir: dir, dtype: "q4" as const };
    const first = await pullModel(REPO, options);
    const downloads = hub.resolvedFiles().length;
    assert.equal(downloads, first.files.length);

    const second = await pullModel(REPO, options);
    assert.equal(second.path, first.path);
    assert.deepEqual(second.downloaded, []);
    assert.equal(hub.resolvedFiles().length, downloads, "the second pull downloaded again");

    const seen = hub.requests.length;
    const pinned = await pullModel(REPO, { ...options, revision: first.commit });
    assert.equal(pinned.path, first.path);
    assert.equal(pinned.fromCache, true);
    assert.equal(hub.requests.length, seen, "a complete pinned commit asked the hub");

    await hub.close();
    const events: PullProgress[] = [];
    const offline = await pullModel(REPO, { ...options, onProgress: (e) => events.push(e) });
    assert.equal(offline.path, first.path);
    assert.equal(offline.fromCache, true);
    assert.equal(events.at(-1)?.bytes, first.bytes);
    // The fp32 files were never pulled: offline, that is an error that says why.
    await assert.rejects(
      pullModel(REPO, { ...options, dtype: "fp32" }),
      assertHubError("unreachable", /cannot reach the hub/),
    );
    await assert.rejects(
      pullModel(REPO, { ...options, dtype: "fp32", offline: true }),
      assertHubError("unreachable", /HF_HUB_OFFLINE/),
    );
  });
});

Deno.test("pull: revisions resolve to their own commit and files; unknown ones are not_found", async () => {
  const main = standInRepo(1);
  const v1 = standInRepo(2);
  await withHub({ [REPO]: { main, v1 } }, async (hub, dir) => {
    const options = { hubUrl: hub.url, cacheDir: dir, dtype: "q4" as const };
    const old = await pullModel(REPO, { ...options, revision: "v1" });
    const now = await pullModel(REPO, options);
    assert.equal(old.commit, commitOf(REPO, "v1"));
    assert.equal(now.commit, commitOf(REPO, "main"));
    assert.notEqual(old.path, now.path);
    const config = "config.json";
    assert.equal(sha256(await Deno.readFile(join(old.path, config))), sha256(bytesOf(v1, config)));
    assert.equal(
      sha256(await Deno.readFile(join(now.path, config))),
      sha256(bytesOf(main, config)),
    );
    // Listing and downloads use the commit, so a push during the pull cannot mix versions.
    const pinnedRequests = hub.requests.filter((r) => r.route !== "info");
    assert.ok(pinnedRequests.every((r) => r.revision === old.commit || r.revision === now.commit));

    await assert.rejects(
      pullModel(REPO, { ...options, revision: "v9" }),
      assertHubError("not_found", /acme\/smol@v9/),
    );
    await assert.rejects(
      pullModel("acme/other", options),
      assertHubError("not_found"),
    );
  });
});

Deno.test("pull: HF_TOKEN is sent as a bearer token; without it the error names HF_TOKEN", async () => {
  const token = "hf_test_0123456789";
  await withHub({ [REPO]: { main: standInRepo() } }, async (hub, dir) => {
    const options = { hubUrl: hub.url, cacheDir: dir, dtype: "q4" as const };
    await assert.rejects(pullModel(REPO, options), assertHubError("auth", /HF_TOKEN is not set/));
    assert.deepEqual(await listTree(dir), [], "a refused pull wrote files");
    await assert.rejects(
      pullModel(REPO, { ...options, token: "hf_wrong" }),
      assertHubError("auth", /refused the token \(HF_TOKEN\)/),
    );
    await assert.rejects(
      pullModel(REPO, { ...options, token: "not-a-token" }),
      assertHubError("auth", /HF_TOKEN/),
    );

    Deno.env.set("HF_TOKEN", token);
    try {
      hub.requests.length = 0;
      const pulled = await pullModel(REPO, options);
      assert.equal(hub.resolvedFiles().length, pulled.files.length);
      assert.ok(hub.requests.every((r) => r.authorization === `Bearer ${token}`));
    } finally {
      Deno.env.delete("HF_TOKEN");
    }
  }, { token });
});

Deno.test("pull: a listing split over pages (Link: next) is read to the end", async () => {
  await withHub({ [REPO]: { main: standInRepo() } }, async (hub, dir) => {
    const pulled = await pullModel(REPO, { hubUrl: hub.url, cacheDir: dir, dtype: "q4" });
    assert.ok(hub.requests.filter((r) => r.route === "tree").length >= 4);
    assert.ok(pulled.files.some((f) => f.path === "onnx/decoder_model_merged_q4.onnx"));
  }, { pageSize: 5 });
});

Deno.test("pull: a modular repo's module files and default dtypes come from its vlmkit.json", async () => {
  const modular = synthesize(getPreset("smolvlm-256m-instruct"), {
    scale: "test",
    layout: "modular",
  }).files;
  await withHub({ [REPO]: { main: modular } }, async (hub, dir) => {
    const pulled = await pullModel(REPO, { hubUrl: hub.url, cacheDir: dir });
    assert.deepEqual(pulled.files.map((f) => f.path).sort(), modular.map((f) => f.path).sort());
    await assert.rejects(
      pullModel(REPO, { hubUrl: hub.url, cacheDir: dir, dtype: { decoder: "q4" } }),
      assertHubError("incomplete_repo", /onnx\/decoder_q4\.onnx[\s\S]*fp32/),
    );
  });
});

Deno.test("resolveHfSource: hf:owner/name@revision pulls that revision and returns its folder", async () => {
  await withHub({ [REPO]: { main: standInRepo(1), v1: standInRepo(2) } }, async (hub, dir) => {
    const path = await resolveHfSource(`hf:${REPO}@v1`, {
      hubUrl: hub.url,
      cacheDir: dir,
      dtype: "q4",
    });
    assert.ok(path.endsWith(commitOf(REPO, "v1")), path);
    assert.ok((await Deno.stat(join(path, "config.json"))).isFile);
  });
});
