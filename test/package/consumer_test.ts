// vlmkit used as a stranger's project uses it, outside the checkout: (a) a Deno project that maps
// `vlmkit` to the checkout's mod.ts; (b) the npm tarball installed into a fresh Node project,
// on onnxruntime-node and on wasm; (c) a Deno project running the installed package from
// node_modules; (d) `tsc --noEmit` of a TypeScript consumer against the package's .d.ts;
// (e) the installed package's request counting, embedding choice and q4 kernel choice.
// Each answers an example of the shipped model and is checked against its label.
// Skipped, with the reason printed, only when the npm registry cannot be reached.
import assert from "node:assert/strict";
import { join } from "node:path";
import ts from "typescript";
import { loadModel } from "../../src/runtime/load_model.ts";
import { buildNpmPackage } from "../../tools/npm_package.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MODEL = join(ROOT, "models/tiny-smolvlm");
const EXAMPLE: { image: string; prompt: string; answer: string } = JSON.parse(
  Deno.readTextFileSync(join(MODEL, "examples/labels.jsonl")).split("\n")[1],
);
const IMAGE = join(MODEL, "examples", EXAMPLE.image);
// A JPEG too: its decoder's WebAssembly must be found from the installed package on every host.
const JPEG = join(ROOT, "test/fixtures/images/sources/photo_baseline.jpg");
const ORT_NODE = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).imports[
  "onnxruntime-node"
].replace(/^npm:onnxruntime-node@/, "");

/** The consumer's program: answers the example on each backend it is given, one JSON line each. */
const program = (specifier: string, backends: string[]) =>
  `import { loadModel } from "${specifier}";
for (const backend of ${JSON.stringify(backends)}) {
  const model = await loadModel(${JSON.stringify(MODEL)}, { backend });
  const result = await model.generate({
    prompt: ${JSON.stringify(EXAMPLE.prompt)},
    images: [${JSON.stringify(IMAGE)}],
    maxNewTokens: 8,
  });
  const photo = await model.generate({ prompt: "What is this?", images: [${
    JSON.stringify(JPEG)
  }], maxNewTokens: 4 });
  await model.dispose();
  console.log(JSON.stringify({ backend, text: result.text.trim(), jpeg: photo.tokenIds }));
}
`;

/**
 * The consumer's program for (e), on the installed package: `countRequest` against the run's
 * `promptTokens`; `embedding: "session"` and `"table"` giving the same greedy ids, then told apart
 * by what each reads once loaded (a table on disk reads its rows per request, so truncating the
 * file fails the table model and not the session's); and `q4Kernel` on a q4 folder the program
 * writes with the package's own `./build` export, read back from `model.q4Kernels`; and the KV
 * cache's form (`kvCache`, read back from `model.kvCache`) on both backends.
 */
const featuresProgram = (name: string, work: string) =>
  `import {
  copyFileSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { countRequest, loadModel } from "${name}";
import { synthesize } from "${name}/build";
import { readImageHeader } from "${name}/image";
import { getPreset } from "${name}/variants";

const out = {};
const image = readFileSync(${JSON.stringify(JPEG)});
const { width, height } = readImageHeader(image);
const prompt = "What is in this picture?";
const model = await loadModel(${JSON.stringify(MODEL)}, { backend: "wasm" });
out.counts = [];
for (const options of [{}, { split: false }]) {
  const count = countRequest(model, { images: [{ width, height }], prompt, ...options });
  const run = await model.generate({ prompt, images: [image], maxNewTokens: 1, ...options });
  out.counts.push({ counted: count.totalTokens, promptTokens: run.promptTokens });
}
await model.dispose();

// The shipped model, copied: the copy's embedding file is truncated below.
const copy = join(${JSON.stringify(work)}, "tiny-copy");
for (const dir of [copy, join(copy, "onnx"), join(copy, "examples")]) {
  mkdirSync(dir, { recursive: true });
}
for (const entry of readdirSync(${
    JSON.stringify(MODEL)
  }, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const from = join(entry.parentPath, entry.name);
  copyFileSync(from, join(copy, from.slice(${JSON.stringify(MODEL)}.length)));
}
const request = { prompt, images: [image], maxNewTokens: 6, stopTokenIds: [] };
const session = await loadModel(copy, { backend: "wasm", embedding: "session" });
const table = await loadModel(copy, { backend: "wasm", embedding: "table" });
out.sessionIds = (await session.generate(request)).tokenIds;
out.tableIds = (await table.generate(request)).tokenIds;
truncateSync(join(copy, "onnx", "embed_tokens.onnx"), 0);
const text = { prompt: "Hello there", maxNewTokens: 2, stopTokenIds: [] };
out.afterTruncate = {};
for (const [kind, m] of [["session", session], ["table", table]]) {
  try {
    out.afterTruncate[kind] = { ids: (await m.generate(text)).tokenIds };
  } catch (error) {
    out.afterTruncate[kind] = { error: error.code ?? String(error) };
  }
  await m.dispose();
}

// A small q4 folder (test-scale SmolVLM), written with the package's builder.
const q4 = join(${JSON.stringify(work)}, "q4");
const spec = getPreset("smolvlm-256m-instruct");
for (const file of synthesize(spec, { scale: "test", seed: 2, dtype: "q4" }).files) {
  mkdirSync(dirname(join(q4, file.path)), { recursive: true });
  writeFileSync(join(q4, file.path), file.bytes);
}
out.q4Kernels = {};
for (const [label, options] of [
  ["wasm", { backend: "wasm" }],
  ["wasm original", { backend: "wasm", q4Kernel: "original" }],
  ["native", { backend: "native" }],
  ["native int8", { backend: "native", q4Kernel: "int8" }],
]) {
  const m = await loadModel(q4, options);
  out.q4Kernels[label] = m.q4Kernels.map((r) => ({ kernel: r.kernel, rewritten: r.rewritten }));
  await m.dispose();
}
// The KV cache's form: new rows in reused buffers (auto) or a new present per step (copy), with
// the same greedy ids; a native decoder with external data keeps the in-place buffer.
const writeFolder = (folder, files) => {
  for (const file of files) {
    mkdirSync(dirname(join(folder, file.path)), { recursive: true });
    writeFileSync(join(folder, file.path), file.bytes);
  }
};
const fp32 = join(${JSON.stringify(work)}, "fp32");
const external = join(${JSON.stringify(work)}, "fp32-external");
writeFolder(fp32, synthesize(spec, { scale: "test", seed: 2 }).files);
writeFolder(external, synthesize(spec, { scale: "test", seed: 2, externalData: "always" }).files);
out.kv = {};
for (const [label, folder, options] of [
  ["wasm auto", fp32, { backend: "wasm" }],
  ["wasm copy", fp32, { backend: "wasm", kvCache: "copy" }],
  ["native auto", fp32, { backend: "native" }],
  ["native copy", fp32, { backend: "native", kvCache: "copy" }],
  ["native external", external, { backend: "native" }],
]) {
  const m = await loadModel(folder, options);
  const run = await m.generate({ prompt: "Hello there", maxNewTokens: 12, stopTokenIds: [] });
  out.kv[label] = { kind: m.kvCache, ids: run.tokenIds };
  await m.dispose();
}
console.log(JSON.stringify(out));
`;

interface Ran {
  stdout: string;
  ms: number;
}

async function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Ran> {
  const started = performance.now();
  const output = await new Deno.Command(command, {
    args,
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.ok(
    output.success,
    `${command} ${args.join(" ")} failed in ${cwd}:\n${decode(output.stderr)}${
      decode(output.stdout)
    }`,
  );
  return { stdout: decode(output.stdout), ms: performance.now() - started };
}

/** Each backend's greedy ids for the JPEG, as this process computes them. */
const expectedJpegIds: Record<string, number[]> = {};
async function jpegIdsHere(backend: "wasm" | "native"): Promise<number[]> {
  if (!expectedJpegIds[backend]) {
    const model = await loadModel(MODEL, { backend });
    try {
      const result = await model.generate({
        prompt: "What is this?",
        images: [JPEG],
        maxNewTokens: 4,
      });
      expectedJpegIds[backend] = result.tokenIds;
    } finally {
      await model.dispose();
    }
  }
  return expectedJpegIds[backend];
}

/** Asserts that every backend's JPEG ids in `stdout` match this process's. */
async function assertJpegIds(stdout: string): Promise<void> {
  for (const line of stdout.trim().split("\n")) {
    const { backend, jpeg } = JSON.parse(line);
    assert.deepEqual(jpeg, await jpegIdsHere(backend), `${backend}: JPEG ids`);
  }
}

function answers(stdout: string): Record<string, string> {
  const lines = stdout.trim().split("\n").map((line) => JSON.parse(line));
  return Object.fromEntries(
    lines.map((l: { backend: string; text: string }) => [l.backend, l.text]),
  );
}

async function registryReachable(): Promise<string | undefined> {
  const ping = await new Deno.Command("npm", {
    args: ["ping", "--fetch-timeout=10000", "--fetch-retries=0"],
    stdout: "null",
    stderr: "piped",
  }).output().catch((error) => ({
    success: false,
    stderr: new TextEncoder().encode(String(error)),
  }));
  return ping.success ? undefined : new TextDecoder().decode(ping.stderr).trim().split("\n").pop();
}

const unreachable = await registryReachable();
if (unreachable) {
  console.warn(`package consumer test skipped: npm registry unreachable (${unreachable})`);
}

Deno.test({
  name: "package: Deno and Node projects outside the checkout run the shipped model",
  ignore: unreachable !== undefined,
  async fn(t) {
    const work = await Deno.makeTempDir({ prefix: "vlmkit-consumer-" });
    const deno = Deno.execPath();
    const timings: Record<string, number> = {};
    try {
      await t.step(
        "(a) a Deno project mapping vlmkit to the checkout, --allow-read only",
        async () => {
          const dir = join(work, "deno-source");
          await Deno.mkdir(dir);
          await Deno.writeTextFile(
            join(dir, "deno.json"),
            JSON.stringify({
              imports: {
                "vlmkit": join(ROOT, "mod.ts"),
                "vlmkit/plugin": join(ROOT, "src/plugins/mod.ts"),
              },
            }),
          );
          await Deno.writeTextFile(join(dir, "main.ts"), program("vlmkit", ["wasm"]));
          const ran = await run(deno, ["run", "--allow-read", "main.ts"], dir);
          timings.denoSource = ran.ms;
          assert.deepEqual(answers(ran.stdout), { wasm: EXAMPLE.answer });
        },
      );

      await t.step(
        "(a') a Deno workspace with vlmkit as a member imports it by its package name",
        async () => {
          const dir = join(work, "deno-workspace");
          const member = join(dir, "vendor", "vlmkit");
          await Deno.mkdir(member, { recursive: true });
          // What a submodule or a vendored copy holds of the package (models stay in the checkout).
          for (const entry of ["deno.json", "mod.ts", "src", "plugins", "variants"]) {
            await run("cp", ["-R", join(ROOT, entry), member], ROOT);
          }
          await Deno.writeTextFile(
            join(dir, "deno.json"),
            JSON.stringify({ workspace: ["./vendor/vlmkit"] }),
          );
          const name = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).name;
          await Deno.writeTextFile(join(dir, "main.ts"), program(name, ["wasm"]));
          const ran = await run(deno, ["run", "--allow-read", "main.ts"], dir);
          timings.denoWorkspace = ran.ms;
          assert.deepEqual(answers(ran.stdout), { wasm: EXAMPLE.answer });
        },
      );

      const built = performance.now();
      const pkg = await buildNpmPackage(join(work, "artifacts"));
      timings.build = performance.now() - built;
      const name = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).name;
      const node = join(work, "node");
      await Deno.mkdir(node);
      await Deno.writeTextFile(
        join(node, "package.json"),
        JSON.stringify({ name: "consumer", private: true, type: "module" }),
      );

      await t.step(
        "(b) npm installs the tarball; Node runs it on onnxruntime-node and wasm",
        async () => {
          const install = await run(
            "npm",
            ["install", "--no-audit", "--no-fund", pkg.tarball, `onnxruntime-node@${ORT_NODE}`],
            node,
            { ONNXRUNTIME_NODE_INSTALL: "skip" },
          );
          timings.install = install.ms;
          await Deno.writeTextFile(join(node, "main.mjs"), program(name, ["native", "wasm"]));
          const ran = await run("node", ["main.mjs"], node);
          timings.node = ran.ms;
          assert.deepEqual(answers(ran.stdout), { native: EXAMPLE.answer, wasm: EXAMPLE.answer });
          await assertJpegIds(ran.stdout);
        },
      );

      await t.step("(c) a Deno project runs the installed package from node_modules", async () => {
        // `file:` tarballs resolve only with a node_modules folder that npm manages ("manual").
        await Deno.writeTextFile(
          join(node, "deno.json"),
          JSON.stringify({ nodeModulesDir: "manual" }),
        );
        await Deno.writeTextFile(join(node, "main.ts"), program(name, ["wasm"]));
        const ran = await run(deno, ["run", "--allow-read", "main.ts"], node);
        timings.denoNodeModules = ran.ms;
        assert.deepEqual(answers(ran.stdout), { wasm: EXAMPLE.answer });
        await assertJpegIds(ran.stdout);
      });

      await t.step(
        "(e) the installed package counts a request, chooses the embedding, the q4 kernel and the KV cache's form",
        async () => {
          await Deno.writeTextFile(join(node, "features.mjs"), featuresProgram(name, work));
          const ran = await run("node", ["features.mjs"], node);
          timings.features = ran.ms;
          const out = JSON.parse(ran.stdout.trim().split("\n").pop()!);
          // countRequest equals the run's prompt tokens, with the wasm budget and unsplit.
          for (const c of out.counts) assert.equal(c.counted, c.promptTokens);
          assert.notEqual(out.counts[0].counted, out.counts[1].counted, "split and unsplit differ");
          // Same greedy ids from the session and from the table...
          assert.equal(out.sessionIds.length, 6);
          assert.deepEqual(out.tableIds, out.sessionIds);
          // ...which are different things: only the table reads its file after loading.
          assert.equal(out.afterTruncate.session.ids?.length, 2, JSON.stringify(out.afterTruncate));
          assert.equal(out.afterTruncate.table.error, "model_invalid");
          // q4Kernel: wasm re-packs by default and keeps MatMulNBits when told; native the reverse.
          const kernels = (label: string) =>
            out.q4Kernels[label].map((r: { kernel: string }) => r.kernel);
          assert.ok(
            kernels("wasm").length > 0 && kernels("wasm").every((k: string) => k === "int8-repack"),
          );
          assert.ok(out.q4Kernels.wasm.every((r: { rewritten: number }) => r.rewritten > 0));
          assert.deepEqual(kernels("wasm original"), []);
          assert.deepEqual(kernels("native"), []);
          assert.deepEqual(kernels("native int8"), kernels("wasm"));
          // kvCache: rows by default, copy when asked, shared for a native external-data decoder,
          // and the same greedy ids on each backend whichever form holds the cache.
          const kinds = Object.fromEntries(
            Object.entries(out.kv).map(([label, v]) => [label, (v as { kind: string }).kind]),
          );
          assert.deepEqual(kinds, {
            "wasm auto": "rows",
            "wasm copy": "copy",
            "native auto": "rows",
            "native copy": "copy",
            "native external": "shared",
          });
          assert.equal(out.kv["wasm copy"].ids.length, 12);
          assert.deepEqual(out.kv["wasm auto"].ids, out.kv["wasm copy"].ids);
          assert.deepEqual(out.kv["native auto"].ids, out.kv["native copy"].ids);
          assert.deepEqual(out.kv["native external"].ids, out.kv["native copy"].ids);
        },
      );

      await t.step("(d) a TypeScript consumer type-checks against the .d.ts files", () => {
        const file = join(node, "consumer.ts");
        Deno.writeTextFileSync(
          file,
          `import { loadModel, type VlmModel } from "${name}";
import type { TaskPlugin } from "${name}/plugin";
import { parseDocTags } from "${name}/doctags";
export async function answer(dir: string, image: Uint8Array): Promise<string> {
  const model: VlmModel = await loadModel(dir, { backend: "native", dtype: "q4" });
  const result = await model.generate({ prompt: "What is this?", images: [image], maxNewTokens: 8 });
  return result.text;
}
export const plugins: TaskPlugin<unknown>[] = [];
export const parse: typeof parseDocTags = parseDocTags;
// @ts-expect-error: the package's types refuse a backend that does not exist
loadModel("m", { backend: "gpu" });
`,
        );
        const started = performance.now();
        const tsProgram = ts.createProgram([file], {
          module: ts.ModuleKind.NodeNext,
          moduleResolution: ts.ModuleResolutionKind.NodeNext,
          target: ts.ScriptTarget.ES2022,
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
          types: [],
        });
        const diagnostics = ts.getPreEmitDiagnostics(tsProgram).filter((d) =>
          // Dependencies' own declarations are theirs to keep clean; vlmkit's and the consumer's count.
          !d.file || !d.file.fileName.includes("/node_modules/") ||
          d.file.fileName.includes(`/node_modules/${name}/`)
        );
        timings.tsc = performance.now() - started;
        assert.deepEqual(
          diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
          [],
        );
      });
    } finally {
      await Deno.remove(work, { recursive: true });
      console.log(
        `package consumer timings (s): ${
          Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(", ")
        }`,
      );
    }
  },
});
