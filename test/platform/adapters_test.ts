// The Deno and Node adapters behave alike (the Node one runs here through Deno's
// process.getBuiltinModule, as it does on Node); the web adapter refuses files with
// a typed error; the one atomic writer never leaves a partial file under the final name.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import fc from "fast-check";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { writeFileAtomically } from "../../src/platform/atomic_write.ts";
import { parentFolder } from "../../src/platform/atomic_write.ts";
import {
  denoPlatform,
  detectPlatform,
  nodePlatform,
  type Platform,
  platform,
  setPlatform,
  webPlatform,
} from "../../src/platform/mod.ts";

const ADAPTERS: [string, () => Platform][] = [
  ["deno", () => denoPlatform()],
  ["node", () => nodePlatform()],
];

for (const [name, make] of ADAPTERS) {
  Deno.test(`platform ${name}: files, missing files, positioned reads and writes`, async () => {
    const host = make();
    assert.equal(host.name, name);
    const dir = await Deno.makeTempDir();
    try {
      const path = join(dir, "a", "b", "f.bin");
      assert.equal(await host.readFile(path), undefined);
      assert.equal(await host.stat(path), undefined);
      await host.mkdir(join(dir, "a", "b"));
      await host.writeFile(path, new Uint8Array([1, 2, 3]));
      assert.deepEqual(await host.readFile(new URL(`file://${path}`)), new Uint8Array([1, 2, 3]));
      assert.deepEqual(await host.stat(path), { isFile: true, size: 3 });
      assert.equal((await host.stat(join(dir, "a")))?.isFile, false);

      const file = await host.open(join(dir, "part"));
      try {
        assert.equal(await file.size(), 0);
        await file.write(new Uint8Array([9, 8, 7, 6]), 0);
        await file.write(new Uint8Array([5]), 2);
        const buffer = new Uint8Array(8);
        assert.equal(await file.read(buffer, 1), 3);
        assert.deepEqual(buffer.subarray(0, 3), new Uint8Array([8, 5, 6]));
        assert.equal(await file.read(buffer, 4), 0);
        await file.truncate(2);
        assert.equal(await file.size(), 2);
      } finally {
        await file.close();
      }
      assert.deepEqual(await host.readFile(join(dir, "part")), new Uint8Array([9, 8]));

      await host.rename(path, join(dir, "moved"));
      assert.equal(await host.stat(path), undefined);
      await host.remove(join(dir, "moved"));
      await host.remove(join(dir, "moved")); // absent: no error
      await host.remove(join(dir, "a"), { recursive: true });
      assert.equal(await host.stat(join(dir, "a")), undefined);
      assert.equal(host.cwd(), Deno.cwd());
      assert.equal(host.env("VLMKIT_SURELY_UNSET_VARIABLE"), undefined);
      assert.equal(host.env("PATH"), Deno.env.get("PATH"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  Deno.test(`platform ${name}: a lock excludes a second holder until released`, async () => {
    const host = make();
    const dir = await Deno.makeTempDir();
    try {
      const path = join(dir, "x.lock");
      const events: string[] = [];
      const release = await host.lock(path);
      const second = host.lock(path).then((r) => {
        events.push("second");
        return r;
      });
      await new Promise((r) => setTimeout(r, 250));
      events.push("release");
      await release();
      await (await second)();
      assert.deepEqual(events, ["release", "second"]);

      // A waiter gives up with the signal's reason.
      const held = await host.lock(path);
      const controller = new AbortController();
      const waiting = host.lock(path, controller.signal);
      controller.abort(new Error("stop"));
      await assert.rejects(waiting, /stop/);
      await held();
      await (await host.lock(path))(); // still obtainable afterwards
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  Deno.test(`platform ${name}: incremental hashes equal one-shot hashes`, () => {
    const host = make();
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 5 }),
        fc.constantFrom("sha256" as const, "sha1" as const),
        (chunks, algorithm) => {
          const hash = host.createHash(algorithm);
          for (const chunk of chunks) hash.update(chunk);
          const whole = createHash(algorithm);
          for (const chunk of chunks) whole.update(chunk);
          assert.equal(hash.digest(), whole.digest("hex"));
        },
      ),
    );
  });
}

Deno.test("platform node: a lock file left by a dead process is taken over", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "y.lock");
    const child = new Deno.Command("true").spawn();
    const { pid } = child;
    await child.status; // that pid now names no running process
    await Deno.writeTextFile(`${path}.pid`, String(pid));
    const release = await nodePlatform().lock(path, AbortSignal.timeout(2000));
    assert.equal(await Deno.readTextFile(`${path}.pid`), String(Deno.pid));
    await release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("platform web: file access is a usage error naming what to pass instead", async () => {
  const host = webPlatform();
  assert.equal(host.fileSystem, false);
  assert.equal(host.cwd(), undefined);
  assert.equal(host.env("PATH"), undefined);
  const usage = (e: unknown) =>
    e instanceof VlmError && e.code === "usage" && /file system/.test(e.message) &&
    /ModelFolder object/.test(e.fix ?? "");
  await assert.rejects(host.readFile("/etc/hostname"), usage);
  await assert.rejects(host.writeFile("/tmp/x", new Uint8Array()), usage);
  assert.throws(() => host.createHash("sha256"), usage);
});

Deno.test("platform: detection picks Deno here, and setPlatform overrides it", async () => {
  assert.equal(detectPlatform().name, "deno");
  assert.equal(platform().name, "deno");
  setPlatform(webPlatform());
  try {
    assert.equal(platform().name, "web");
    const { readImageSource } = await import("../../src/image/source.ts");
    await assert.rejects(
      readImageSource("some/image.png"),
      (e: unknown) => e instanceof VlmError && e.code === "input_invalid",
    );
  } finally {
    setPlatform(undefined);
  }
  assert.equal(platform().name, "deno");
});

Deno.test("atomic writer: replaces the file whole and leaves no temporary behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "deep", "out.json");
    await writeFileAtomically(path, "first");
    await writeFileAtomically(path, new Uint8Array([104, 105]));
    assert.equal(await Deno.readTextFile(path), "hi");
    assert.deepEqual([...Deno.readDirSync(join(dir, "deep"))].map((e) => e.name), ["out.json"]);

    // A failing rename removes the temporary and reports the error.
    const failing: Platform = {
      ...denoPlatform(),
      rename: () => Promise.reject(new Error("full")),
    };
    await assert.rejects(writeFileAtomically(path, "lost", failing), /full/);
    assert.deepEqual([...Deno.readDirSync(join(dir, "deep"))].map((e) => e.name), ["out.json"]);
    assert.equal(await Deno.readTextFile(path), "hi");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("atomic writer: parentFolder strips exactly the last segment", () => {
  fc.assert(
    fc.property(
      fc.array(fc.stringMatching(/^[a-z0-9.]{1,6}$/), { minLength: 1, maxLength: 4 }),
      fc.stringMatching(/^[a-z0-9]{1,6}$/),
      fc.constantFrom("/", "\\"),
      (segments, leaf, separator) => {
        const folder = segments.join(separator);
        assert.equal(parentFolder(`${folder}${separator}${leaf}`), folder);
        assert.equal(parentFolder(`/${leaf}`), "/");
        assert.equal(parentFolder(leaf), ".");
      },
    ),
  );
});
