/**
 * Keeps zod small in bundles. esbuild trims a namespace only when it is
 * imported as one (`import * as z from "zod"`, then `z.object`); the `z` that
 * `vlmkit/plugin` re-exports is a namespace passed on as a value, so esbuild
 * would inline all of zod (about 450 kB, every locale included). This plugin
 * rewrites `import { z, ... } from "<vlmkit's plugin entry>"` in the bundled
 * project's own files into a namespace import of the same zod package (the
 * same object at run time) plus the other names, so a plugin bundle holds
 * only the parts of zod the plugin calls.
 *
 * @module
 */
import type * as esbuild from "esbuild";
import { dirname, extname } from "node:path";
import { pathToFileURL } from "node:url";
import type { DenoGraph } from "./deno_resolver.ts";

const IMPORT = /import\s*\{([^}]*)\}\s*from\s*(["'])([^"'\n]+)\2\s*;?/g;
const Z_BINDING = /^z(?:\s+as\s+([A-Za-z_$][\w$]*))?$/;

const LOADERS: Record<string, esbuild.Loader> = {
  ".ts": "ts",
  ".mts": "ts",
  ".tsx": "tsx",
  ".js": "js",
  ".mjs": "js",
  ".jsx": "jsx",
};

/** The npm specifier of the zod that vlmkit's plugin entry at `entryUrl` re-exports, if it is one. */
function zodBehind(graph: DenoGraph, entryUrl: string): string | undefined {
  if (!/\/src\/plugins\/(mod|zod)\.ts$/.test(entryUrl)) return undefined;
  const zodModule = graph.modules.get(new URL("./zod.ts", entryUrl).href);
  const target = [...zodModule?.values() ?? []].map((r) => r.specifier ?? "")
    .find((s) => /^npm:\/?zod@/.test(graph.redirects[s] ?? s));
  return target && (graph.redirects[target] ?? target);
}

/**
 * Rewrites the `z` import of `source` (the file at `url`) when it comes from
 * vlmkit's plugin entry; `undefined` when there is nothing to rewrite.
 */
export function rewriteZodImports(
  graph: DenoGraph,
  url: string,
  source: string,
): string | undefined {
  const imports = graph.modules.get(url);
  if (!imports) return undefined;
  let changed = false;
  const text = source.replace(IMPORT, (statement, names: string, quote: string, specifier) => {
    const resolved = imports.get(specifier)?.specifier;
    const zod = resolved && zodBehind(graph, resolved);
    if (!zod) return statement;
    const items = names.split(",").map((n) => n.trim()).filter((n) => n);
    const at = items.findIndex((n) => Z_BINDING.test(n));
    if (at < 0) return statement;
    const local = Z_BINDING.exec(items[at])![1] ?? "z";
    items.splice(at, 1);
    changed = true;
    const rest = items.length
      ? `import { ${items.join(", ")} } from ${quote}${specifier}${quote};`
      : `import ${quote}${specifier}${quote};`;
    return `import * as ${local} from "${zod}"; ${rest}`;
  });
  return changed ? text : undefined;
}

/** The esbuild plugin applying {@linkcode rewriteZodImports} to the project's own files. */
export function zodNamespace(graph: DenoGraph): esbuild.Plugin {
  const packageRoots = [...graph.packages.values()].map((p) => p.localPath + "/");
  return {
    name: "vlmkit-zod-namespace",
    setup(build) {
      build.onLoad({ filter: /\.(m?[jt]sx?)$/ }, async (args) => {
        if (packageRoots.some((root) => args.path.startsWith(root))) return undefined;
        const source = await Deno.readTextFile(args.path);
        const contents = rewriteZodImports(graph, pathToFileURL(args.path).href, source);
        if (contents === undefined) return undefined;
        return { contents, loader: LOADERS[extname(args.path)], resolveDir: dirname(args.path) };
      });
    },
  };
}
