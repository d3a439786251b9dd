// Download mechanics: resume with Range after a dropped connection (within a
// pull and across pulls), servers that ignore Range, hash mismatches, abort,
// and concurrent pulls sharing one cache.
import assert from "node:assert/strict";
import { join } from "node:path";
import { HubError } from "../../src/hub/hub_error.ts";
import { pullModel } from "../../src/hub/pull.ts";
import { commitOf, sha256, withHub } from "./_hub_server.ts";
import { bytesOf, listTree, standInRepo } from "./_repos.ts";

const REPO = "acme/smol";
const DECODER = "onnx/decoder_model_merged_q4.onnx";

/** Where the cache keeps the partial download of `bytes`. */
function partPath(dir: string, bytes: Uint8Array): string {
  return join(dir, "acme--smol", "partial", `${sha256(bytes)}.part`);
}

function finalPath(dir: string, path: string): string {
  return join(dir, "acme--smol", "snapshots", commitOf(REPO, "main"), path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("transfer: a connection cut mid-file is resumed with a Range request", async () => {
  const files = standInRepo();
  await withHub({ [REPO]: { main: files } }, async (hub, dir) => {
    hub.faults.cutOnce = { path: DECODER, afterBytes: 100_000 };
    const pulled = await pullModel(REPO, { hubUrl: hub.url, cacheDir: dir, dtype: "q4" });
    const requests = hub.fileRequests(DECODER);
    assert.equal(requests.length, 2);
    assert.equal(requests[0].range, null);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(requests[1].range ?? "")?.[1]);
    assert.ok(resumedAt > 0 && resumedAt <= 100_000, `resumed at ${requests[1].range}`);
    assert.equal(requests[1].status, 206);
    const bytes = await Deno.readFile(join(pulled.path, DECODER));
    assert.equal(sha256(bytes), sha256(bytesOf(files, DECODER)));
    assert.deepEqual((await listTree(dir)).filter((p) => p.includes("partial/")), []);
  });
});

Deno.test("transfer: a pull that gives up keeps the part; the next pull continues it", async () => {
  const files = standInRepo();
  await withHub({ [REPO]: { main: files } }, async (hub, dir) => {
    hub.faults.cutOnce = { path: DECODER, afterBytes: 100_000 };
    const options = { hubUrl: hub.url, cacheDir: dir, dtype: "q4" as const, retries: 0 };
    await assert.rejects(pullModel(REPO, options), (error: unknown) => {
      assert.ok(error instanceof HubError && error.reason === "unreachable", String(error));
      assert.match(error.fix ?? "", /resume/);
      return true;
    });
    const part = partPath(dir, bytesOf(files, DECODER));
    const kept = (await Deno.stat(part)).size;
    assert.ok(kept > 0 && kept <= 100_000, `${kept} bytes kept`);
    assert.equal(await exists(finalPath(dir, DECODER)), false);

    const pulled = await pullModel(REPO, options);
    assert.equal(hub.fileRequests(DECODER).at(-1)!.range, `bytes=${kept}-`);
    assert.equal(
      sha256(await Deno.readFile(join(pulled.path, DECODER))),
      sha256(bytesOf(files, DECODER)),
    );
    assert.equal(await exists(part), false);
  });
});

Deno.test("transfer: a server that ignores Range gets the file from the start, still verified", async () => {
  const files = standInRepo();
  await withHub({ [REPO]: { main: files } }, async (hub, dir) => {
    const decoder = bytesOf(files, DECODER);
    const part = partPath(dir, decoder);
    await Deno.mkdir(join(part, ".."), { recursive: true });
    await Deno.writeFile(part, decoder.slice(0, 70_000));
    hub.faults.ignoreRange = true;
    const pulled = await pullModel(REPO, { hubUrl: hub.url, cacheDir: dir, dtype: "q4" });
    const [request] = hub.fileRequests(DECODER);
    assert.equal(request.range, "bytes=70000-");
    assert.equal(request.status, 200);
    assert.equal(sha256(await Deno.readFile(join(pulled.path, DECODER))), sha256(decoder));
  });
});

Deno.test("transfer: a kept part with wrong bytes is discarded and the file fetched afresh", async () => {
  const files = standInRepo();
  await withHub({ [REPO]: { main: files } }, async (hub, dir) => {
    const decoder = bytesOf(files, DECODER);
    const part = partPath(dir, decoder);
    await Deno.mkdir(join(part, ".."), { recursive: true });
    await Deno.writeFile(part, new Uint8Array(50_000)); // zeros, not the file's first bytes
    const pulled = await pullModel(REPO, { hubUrl: hub.url, cacheDir: dir, dtype: "q4" });
    assert.deepEqual(hub.fileRequests(DECODER).map((r) => r.range), ["bytes=50000-", null]);
    assert.equal(sha256(await Deno.readFile(join(pulled.path, DECODER))), sha256(decoder));
  });
});

Deno.test("transfer: corrupted bytes fail the hash check and leave neither file nor part", async () => {
  const files = standInRepo();
  await withHub({ [REPO]: { main: files } }, async (hub, dir) => {
    hub.faults.corrupt = [DECODER];
    await assert.rejects(
      pullModel(REPO, { hubUrl: hub.url, cacheDir: dir, dtype: "q4" }),
      (error: unknown) => {
        assert.ok(error instanceof HubError && error.reason === "integrity", String(error));
        assert.match(error.message, new RegExp(`${DECODER}.*${sha256(bytesOf(files, DECODER))}`));
        assert.equal(error.code, "model_invalid");
        return true;
      },
    );
    const left = await listTree(dir);
    assert.ok(!left.some((p) => p.endsWith(DECODER)), left.join("\n"));
    assert.ok(!left.some((p) => p.endsWith(".part")), left.join("\n"));
    // Files the listing does not hash-check are not exempt: git blob ids are checked too.
    hub.faults.corrupt = ["config.json"];
    await assert.rejects(
      pullModel(REPO, { hubUrl: hub.url, cacheDir: join(dir, "other"), dtype: "q4" }),
      (error: unknown) => error instanceof HubError && /config\.json/.test(error.message),
    );
  });
});

Deno.test("transfer: abort mid-file rejects with the abort, keeps only the part; a re-pull resumes", async () => {
  const files = standInRepo();
  await withHub({ [REPO]: { main: files } }, async (hub, dir) => {
    hub.faults.slow = { path: DECODER, chunkBytes: 16_384, delayMs: 5 };
    const controller = new AbortController();
    const options = { hubUrl: hub.url, cacheDir: dir, dtype: "q4" as const };
    await assert.rejects(
      pullModel(REPO, {
        ...options,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.file === DECODER && p.fileBytes >= 64_000) controller.abort();
        },
      }),
      (error: unknown) => (error as Error).name === "AbortError",
    );
    assert.equal(await exists(finalPath(dir, DECODER)), false);
    const kept = (await Deno.stat(partPath(dir, bytesOf(files, DECODER)))).size;
    assert.ok(kept >= 64_000 && kept < bytesOf(files, DECODER).length, `${kept}`);

    hub.faults.slow = undefined;
    const pulled = await pullModel(REPO, options);
    assert.equal(hub.fileRequests(DECODER).at(-1)!.range, `bytes=${kept}-`);
    assert.equal(
      sha256(await Deno.readFile(join(pulled.path, DECODER))),
      sha256(bytesOf(files, DECODER)),
    );
  });
});

Deno.test("transfer: an already aborted signal rejects before any request", async () => {
  await withHub({ [REPO]: { main: standInRepo() } }, async (hub, dir) => {
    await assert.rejects(
      pullModel(REPO, { hubUrl: hub.url, cacheDir: dir, signal: AbortSignal.abort() }),
      (error: unknown) => (error as Error).name === "AbortError",
    );
    assert.equal(hub.requests.length, 0);
  });
});

Deno.test("transfer: two concurrent pulls of one repo share the cache and both succeed", async () => {
  const files = standInRepo();
  await withHub({ [REPO]: { main: files } }, async (hub, dir) => {
    // Slow enough that the pulls overlap on the same file.
    hub.faults.slow = { path: DECODER, chunkBytes: 65_536, delayMs: 5 };
    const options = { hubUrl: hub.url, cacheDir: dir, dtype: "q4" as const };
    const [a, b] = await Promise.all([pullModel(REPO, options), pullModel(REPO, options)]);
    assert.equal(a.path, b.path);
    // Each file was fetched once: whoever waited found it done.
    const fetched = hub.resolvedFiles();
    assert.equal(new Set(fetched).size, fetched.length, fetched.join(", "));
    assert.deepEqual([...a.downloaded, ...b.downloaded].sort(), a.files.map((f) => f.path).sort());
    for (const file of a.files) {
      assert.equal(
        sha256(await Deno.readFile(join(a.path, file.path))),
        sha256(bytesOf(files, file.path)),
      );
    }
    assert.deepEqual((await listTree(dir)).filter((p) => /\.(part|tmp-\w+)$/.test(p)), []);
  });
});

Deno.test("transfer: a pull in another process and one here share the cache without clashing", async () => {
  const files = standInRepo();
  await withHub({ [REPO]: { main: files } }, async (hub, dir) => {
    hub.faults.slow = { path: DECODER, chunkBytes: 16_384, delayMs: 10 };
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-lock",
        "--allow-all",
        new URL("./_pull_child.ts", import.meta.url).pathname,
        REPO,
        hub.url,
        dir,
        "q4",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    let exited = false;
    child.finally(() => exited = true);
    // Start here once the other process is inside the decoder download.
    while (!exited && !hub.resolvedFiles().includes(DECODER)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const here = await pullModel(REPO, { hubUrl: hub.url, cacheDir: dir, dtype: "q4" });
    const output = await child;
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const there = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.equal(there.path, here.path);
    assert.ok(there.downloaded.includes(DECODER) && !here.downloaded.includes(DECODER));
    const fetched = hub.resolvedFiles();
    assert.equal(new Set(fetched).size, fetched.length, fetched.join(", "));
    assert.equal(
      sha256(await Deno.readFile(join(here.path, DECODER))),
      sha256(bytesOf(files, DECODER)),
    );
  });
});
