// The npm build rewrites `npm:pkg@version[/sub]` to `pkg[/sub]` and collects each package's
// exact version; two versions of one package are refused.
import assert from "node:assert/strict";
import fc from "fast-check";
import { rewriteNpmSpecifiers } from "../../tools/npm_package.ts";

const NAME = fc.stringMatching(/^(@[a-z][a-z0-9-]{0,8}\/)?[a-z][a-z0-9.-]{0,10}$/);
const VERSION = fc.stringMatching(/^\d{1,2}\.\d{1,2}\.\d{1,2}$/);
const SUB = fc.stringMatching(/^(\/[a-z][a-z0-9._-]{0,8}){0,2}$/);

Deno.test("npm specifiers: rewritten to bare names, versions collected", () => {
  fc.assert(
    fc.property(NAME, VERSION, SUB, fc.constantFrom('"', "'"), (name, version, sub, q) => {
      const source = `import x from ${q}npm:${name}@${version}${sub}${q};\n` +
        `const y = await import(${q}./local.ts${q});\n`;
      const { text, dependencies } = rewriteNpmSpecifiers(source);
      assert.equal(
        text,
        `import x from ${q}${name}${sub}${q};\nconst y = await import(${q}./local.ts${q});\n`,
      );
      assert.deepEqual([...dependencies], [[name, version]]);
    }),
  );
});

Deno.test("npm specifiers: one package at two versions is refused", () => {
  assert.throws(
    () => rewriteNpmSpecifiers(`import "npm:zod@4.6.7";\nimport "npm:zod@3.0.0/v4";\n`),
    /zod is imported at versions 4.6.7 and 3.0.0/,
  );
});

Deno.test("npm specifiers: the shipped sources pin the versions deno.json maps", async () => {
  const root = new URL("../../", import.meta.url);
  const pinned: Record<string, string> = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  ).imports;
  const seen = new Set<string>();
  const visit = async (dir: URL): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await visit(url);
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(url);
        for (const [, name, version] of text.matchAll(/"npm:((?:@[^/"@]+\/)?[^/"@]+)@([^/"]+)/g)) {
          assert.equal(`npm:${name}@${version}`, pinned[name], `${url.pathname}: ${name}`);
          seen.add(name);
        }
      }
    }
  };
  for (const folder of ["src/", "plugins/", "variants/"]) await visit(new URL(folder, root));
  assert.ok(seen.has("zod") && seen.has("onnxruntime-web"), [...seen].join(", "));
});
