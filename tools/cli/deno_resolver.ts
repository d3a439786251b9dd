/**
 * Resolves imports for esbuild exactly as Deno does, from the module graph
 * `deno info --json` reports for the entry: project files through the entry's
 * own `deno.json` (its import map, `npm:` specifiers, a path to vlmkit), npm
 * packages at the versions Deno picked, and each npm package's dependencies
 * at the versions Deno linked for it. Files come from Deno's npm cache; esbuild
 * still applies each package's `exports`, `module` and conditions.
 *
 * @module
 */
import type * as esbuild from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { VlmError } from "../../src/errors/vlm_error.ts";

/** One npm package of the graph. */
interface NpmPackage {
  name: string;
  version: string;
  /** Ids (`name@version`, keys of {@linkcode DenoGraph.packages}) of its dependencies. */
  dependencies: string[];
  /** Its folder (Deno's npm cache, or a `node_modules` folder). */
  localPath: string;
}

/** What `deno info --json` says about an entry, reduced to what resolution needs. */
export interface DenoGraph {
  /** The config file used, if any. */
  config: string | undefined;
  /** Module specifier → import specifier as written → resolved specifier (or an error). */
  modules: Map<string, Map<string, { specifier?: string; error?: string }>>;
  /** Redirects (e.g. `npm:zod@4.6.7` → `npm:/zod@4.6.7`). */
  redirects: Record<string, string>;
  /** npm packages by id. */
  packages: Map<string, NpmPackage>;
  /** Ids of the npm packages the entry's own modules import (not through other packages). */
  imported: Set<string>;
}

interface InfoJson {
  modules: {
    specifier: string;
    dependencies?: { specifier: string; code?: { specifier?: string; error?: string } }[];
  }[];
  redirects?: Record<string, string>;
  npmPackages?: Record<string, NpmPackage>;
}

/** The `deno.json`/`deno.jsonc` Deno would use for a file in `dir` (searched upwards). */
export async function findDenoConfig(dir: string): Promise<string | undefined> {
  for (let current = dir;; current = dirname(current)) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const candidate = join(current, name);
      try {
        if ((await Deno.stat(candidate)).isFile) return candidate;
      } catch {
        // not here
      }
    }
    if (dirname(current) === current) return undefined;
  }
}

/**
 * Reads the module graph of `entry` (a path) with `deno info --json`, under
 * the config found next to it or above (downloading missing npm packages).
 */
export async function readDenoGraph(entry: string): Promise<DenoGraph> {
  const path = await Deno.realPath(entry).catch((error) => {
    throw new VlmError("input_invalid", `cannot bundle ${entry}: the file does not exist`, {
      fix: "pass the path of the module to bundle",
      cause: error,
    });
  });
  const config = await findDenoConfig(dirname(path));
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", ...(config ? ["--config", config] : ["--no-config"]), path],
    cwd: dirname(path),
    env: { NO_COLOR: "1" },
  }).output();
  if (!output.success) {
    const message = new TextDecoder().decode(output.stderr).trim().split("\n").slice(0, 6)
      .join("\n");
    throw new VlmError("input_invalid", `cannot bundle ${entry}: ${message}`, {
      fix: "check that its imports resolve under Deno (`deno check " + entry + "`)",
    });
  }
  const info: InfoJson = JSON.parse(new TextDecoder().decode(output.stdout));
  const modules = new Map<string, Map<string, { specifier?: string; error?: string }>>();
  for (const module of info.modules) {
    const imports = new Map<string, { specifier?: string; error?: string }>();
    for (const dependency of module.dependencies ?? []) {
      if (!dependency.code) continue;
      const { specifier, error } = dependency.code;
      imports.set(dependency.specifier, { specifier: specifier && canonical(specifier), error });
    }
    modules.set(canonical(module.specifier), imports);
  }
  const packages = new Map<string, NpmPackage>();
  for (const [id, entry] of Object.entries(info.npmPackages ?? {})) {
    // The graph lists every package of the config's resolution; only the imported ones are on disk.
    const localPath = await Deno.realPath(entry.localPath).catch(() => entry.localPath);
    packages.set(id, { ...entry, localPath });
  }
  const redirects = info.redirects ?? {};
  const imported = new Set<string>();
  for (const imports of modules.values()) {
    for (const { specifier } of imports.values()) {
      const npm = specifier && parseNpmSpecifier(redirects[specifier] ?? specifier);
      const id = npm && findPackage(packages, npm.name, npm.version);
      if (id) imported.add(id);
    }
  }
  return { config, modules, redirects, packages, imported };
}

/** The id of package `name` at `version`. */
function findPackage(
  packages: Map<string, NpmPackage>,
  name: string,
  version: string,
): string | undefined {
  return [...packages].find(([, p]) => p.name === name && p.version === version)?.[0];
}

/** A `file:` URL with symlinks resolved (esbuild sees real paths); other specifiers as they are. */
function canonical(specifier: string): string {
  if (!specifier.startsWith("file:")) return specifier;
  try {
    return pathToFileURL(Deno.realPathSync(fileURLToPath(specifier))).href;
  } catch {
    return specifier;
  }
}

/** The package a bare specifier names: `@scope/name/sub` → `@scope/name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** `npm:/name@version/sub` (or without the slash) → its parts. */
export function parseNpmSpecifier(
  specifier: string,
): { name: string; version: string; subpath: string } | undefined {
  const match = /^npm:\/?(@[^/@]+\/[^/@]+|[^/@]+)@([^/]+)(\/.*)?$/.exec(specifier);
  return match ? { name: match[1], version: match[2], subpath: match[3] ?? "" } : undefined;
}

/**
 * An esbuild plugin resolving every import the way {@linkcode readDenoGraph}'s
 * graph says. `work` is a scratch folder for the `node_modules` links through
 * which esbuild reaches each package (so `exports` apply and every file keeps
 * one real path).
 */
export function denoResolver(graph: DenoGraph, work: string): esbuild.Plugin {
  const byPath = [...graph.packages].map(([id, p]) => ({ id, root: p.localPath + "/" }))
    .sort((a, b) => b.root.length - a.root.length);
  const links = new Map<string, Promise<string>>();
  /** A folder whose `node_modules/NAME` is package `id`. */
  function linkFolder(id: string): Promise<string> {
    if (!links.has(id)) {
      const pkg = graph.packages.get(id)!;
      const dir = join(work, "links", id.replaceAll("/", "+"));
      const link = join(dir, "node_modules", pkg.name);
      links.set(
        id,
        Deno.mkdir(dirname(link), { recursive: true })
          .then(() => Deno.symlink(pkg.localPath, link))
          .then(() => dir),
      );
    }
    return links.get(id)!;
  }

  return {
    name: "deno-resolver",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData?.denoResolverInner || args.kind === "entry-point") return undefined;
        if (args.path.startsWith("node:")) return { path: args.path, external: true };
        let id: string | undefined;
        let specifier: string;
        const owner = byPath.find((p) => args.importer.startsWith(p.root));
        if (owner) {
          // Inside an npm package: relative paths are esbuild's; bare names are its dependencies.
          if (/^(\.|\/)/.test(args.path)) return undefined;
          const name = packageName(args.path);
          id = graph.packages.get(owner.id)!.dependencies.find((dep) =>
            graph.packages.get(dep)?.name === name
          );
          if (!id) return undefined;
          specifier = args.path;
        } else {
          const module = graph.modules.get(pathToFileURL(args.importer).href);
          // A full npm: specifier the graph did not see (a rewritten import) names its package itself.
          const resolved = module?.get(args.path) ??
            (args.path.startsWith("npm:") ? { specifier: args.path } : undefined);
          if (!resolved) return undefined;
          if (resolved.error || !resolved.specifier) {
            return { errors: [{ text: resolved.error ?? `cannot resolve ${args.path}` }] };
          }
          const target = graph.redirects[resolved.specifier] ?? resolved.specifier;
          if (target.startsWith("file:")) return { path: fileURLToPath(target) };
          if (target.startsWith("node:")) return { path: target, external: true };
          const npm = parseNpmSpecifier(target);
          if (!npm) {
            return { errors: [{ text: `${target}: only local files and npm: packages bundle` }] };
          }
          id = findPackage(graph.packages, npm.name, npm.version);
          if (!id) return { errors: [{ text: `${target} is not in Deno's npm graph` }] };
          specifier = npm.name + npm.subpath;
        }
        const result = await build.resolve(specifier, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: await linkFolder(id),
          pluginData: { denoResolverInner: true },
        });
        if (result.errors.length) return { errors: result.errors };
        return {
          path: result.path,
          namespace: result.namespace,
          external: result.external,
          sideEffects: result.sideEffects,
        };
      });
    },
  };
}
