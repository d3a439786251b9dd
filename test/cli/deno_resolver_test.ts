// The bundler's resolver reads Deno's module graph; its specifier parsing must round-trip.
import assert from "node:assert/strict";
import fc from "fast-check";
import { packageName, parseNpmSpecifier } from "../../tools/cli/deno_resolver.ts";

const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/);
const name = fc.oneof(segment, fc.tuple(segment, segment).map(([s, n]) => `@${s}/${n}`));
const version = fc.tuple(fc.nat(99), fc.nat(99), fc.nat(99)).map((v) => v.join("."));
const subpath = fc.array(segment, { maxLength: 3 }).map((parts) =>
  parts.map((p) => `/${p}`).join("")
);

Deno.test("resolver: npm specifiers parse back into name, version and subpath", () => {
  fc.assert(
    fc.property(name, version, subpath, fc.boolean(), (n, v, sub, slash) => {
      const parsed = parseNpmSpecifier(`npm:${slash ? "/" : ""}${n}@${v}${sub}`);
      assert.deepEqual(parsed, { name: n, version: v, subpath: sub });
      // The bare form names the same package.
      assert.equal(packageName(n + sub), n);
    }),
  );
  assert.equal(parseNpmSpecifier("./local.ts"), undefined);
  assert.equal(parseNpmSpecifier("npm:zod"), undefined); // no version: not from Deno's graph
});
