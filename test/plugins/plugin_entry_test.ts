// `vlmkit/plugin` (src/plugins/mod.ts): what a plugin author imports. It must not pull the Hub,
// the builder, the filesystem or ONNX Runtime, so a plugin bundles small; plugins arriving from
// outside the type checker are checked field by field; errors keep their type across copies.
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { UsageError } from "../../src/errors/usage_error.ts";
import { pluginProblems } from "../../src/plugins/validate_plugin.ts";
import * as entry from "../../src/plugins/mod.ts";
import { bundleModule } from "../../tools/cli/esbuild_bundle.ts";
import { rewriteZodImports } from "../../tools/cli/zod_namespace.ts";
import type { DenoGraph } from "../../tools/cli/deno_resolver.ts";

const ENTRY = new URL("../../src/plugins/mod.ts", import.meta.url).pathname;
/** What a plugin bundle must never carry. */
const FORBIDDEN = [
  /\/src\/hub\//,
  /\/src\/build\//,
  /onnxruntime/,
  /@huggingface\/hub/,
  /^node:fs/,
];

Deno.test("plugin entry: its module graph and bundle hold no Hub, builder, fs or ONNX Runtime", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-plugin-entry-" });
  try {
    const out = await bundleModule(ENTRY, join(dir, "plugin.js"));
    // Every module Deno loads for the entry, type-only imports included.
    const modules = [...out.graph.modules.keys()];
    assert.ok(modules.some((m) => m.endsWith("/src/plugins/run_task.ts")));
    for (const pattern of FORBIDDEN) {
      assert.deepEqual(modules.filter((m) => pattern.test(m)), [], `graph: ${pattern}`);
      assert.deepEqual(out.inputs.filter((i) => pattern.test(i)), [], `bundle: ${pattern}`);
    }
    const npm = [...out.graph.imported].map((id) => out.graph.packages.get(id)!.name).sort();
    assert.deepEqual(npm, ["@huggingface/tokenizers", "zod"]); // the tokenizer for types only
    assert.ok(!out.inputs.some((i) => i.includes("@huggingface/tokenizers")));
    const text = await Deno.readTextFile(join(dir, "plugin.js"));
    assert.doesNotMatch(text, /^\s*import\s/m);
    const bundled = await import(new URL(`file://${join(dir, "plugin.js")}`).href);
    for (const name of ["parsePluginOptions", "userTurn", "runTask", "VlmError", "z"]) {
      assert.ok(name in bundled, name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plugin entry: z is the zod vlmkit validates with, and options parse through it", () => {
  const schema = entry.z.object({ n: entry.z.int().min(1).default(2) }).strict();
  assert.deepEqual(entry.parsePluginOptions("demo", schema, {}), { n: 2 });
  assert.throws(
    () => entry.parsePluginOptions("demo", schema, { n: 0 }),
    (error) => error instanceof entry.VlmError && /option n/.test(error.message),
  );
});

Deno.test("plugin entry: a VlmError made by another copy of the class is still a VlmError", () => {
  // A bundled plugin inlines its own VlmError; the host must still see code and fix.
  const brand = Symbol.for("vlmkit.VlmError");
  const foreign = Object.defineProperty(new Error("from a bundle"), brand, { value: true });
  assert.ok(foreign instanceof VlmError);
  assert.ok(!(new Error("plain") instanceof VlmError));
  assert.ok(new UsageError("bad flag") instanceof VlmError);
  assert.ok(!(new VlmError("usage", "not a usage error subclass") instanceof UsageError));
});

const validPlugin = fc.record({
  name: fc.stringMatching(/^[a-z0-9]+(-[a-z0-9]+)*$/),
  maxNewTokens: fc.integer({ min: 1, max: 4096 }),
  output: fc.constant({ safeParse: (v: unknown) => ({ success: true, data: v }) }),
  hooks: fc.dictionary(
    fc.constantFrom("prompt", "preprocess", "logitsProcessor", "stop", "onToken", "postprocess"),
    fc.constant(() => undefined),
  ),
});

Deno.test("plugin checks: well-formed plugins pass; each removed field is named", () => {
  fc.assert(fc.property(validPlugin, (plugin) => pluginProblems(plugin).length === 0));
  fc.assert(
    fc.property(
      validPlugin,
      fc.subarray(["name", "maxNewTokens", "output", "hooks"], { minLength: 1 }),
      (plugin, removed) => {
        const broken: Record<string, unknown> = { ...plugin };
        for (const key of removed) delete broken[key];
        const problems = pluginProblems(broken);
        // Every issue is reported, not only the first.
        return problems.length === removed.length &&
          removed.every((key) => problems.some((p) => p.startsWith(key)));
      },
    ),
  );
  assert.match(pluginProblems({ ...fc.sample(validPlugin, 1)[0], name: "My Task" })[0], /kebab/);
  assert.match(pluginProblems(() => {})[0], /function, not a plugin object/);
  assert.deepEqual(
    pluginProblems({
      name: "x",
      maxNewTokens: 1,
      output: { safeParse: () => ({}) },
      hooks: { parse: () => {}, prompt: "no" },
    }),
    [
      "hooks.parse is not a hook (prompt, preprocess, logitsProcessor, stop, onToken, postprocess)",
      "hooks.prompt is not a function",
    ],
  );
});

Deno.test("bundler: `z` from vlmkit's plugin entry becomes a namespace import of its zod", () => {
  const file = "file:///work/p/shout.ts";
  const pluginEntry = "file:///vlmkit/src/plugins/mod.ts";
  const graph: DenoGraph = {
    config: undefined,
    modules: new Map([
      [
        file,
        new Map([["vlmkit/plugin", { specifier: pluginEntry }], ["./x.ts", {
          specifier: "file:///work/p/x.ts",
        }]]),
      ],
      [pluginEntry, new Map([["./zod.ts", { specifier: "file:///vlmkit/src/plugins/zod.ts" }]])],
      [
        "file:///vlmkit/src/plugins/zod.ts",
        new Map([["npm:zod@4.6.7", { specifier: "npm:zod@4.6.7" }]]),
      ],
    ]),
    redirects: { "npm:zod@4.6.7": "npm:/zod@4.6.7" },
    packages: new Map(),
    imported: new Set(),
  };
  assert.equal(
    rewriteZodImports(
      graph,
      file,
      `import { parsePluginOptions, z, type TaskPlugin } from "vlmkit/plugin";\nz.object({});`,
    ),
    `import * as z from "npm:/zod@4.6.7"; import { parsePluginOptions, type TaskPlugin } from "vlmkit/plugin";\nz.object({});`,
  );
  assert.equal(
    rewriteZodImports(graph, file, `import { z as zod } from 'vlmkit/plugin'`),
    `import * as zod from "npm:/zod@4.6.7"; import 'vlmkit/plugin';`,
  );
  // Other modules, other names and unknown files are left alone.
  assert.equal(rewriteZodImports(graph, file, `import { z } from "./x.ts";`), undefined);
  assert.equal(rewriteZodImports(graph, file, `import { zed } from "vlmkit/plugin";`), undefined);
  assert.equal(
    rewriteZodImports(graph, "file:///elsewhere.ts", `import { z } from "vlmkit/plugin";`),
    undefined,
  );
});
