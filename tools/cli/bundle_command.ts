/**
 * `vlm bundle --out DIR [--target edge|browser]`: the SDK as one ES module
 * for runtimes without Deno's npm resolution.
 *
 * - `edge` (Deno Deploy, Supabase Edge Functions, any Deno-style isolate):
 *   `vlmkit.edge.js`, wasm backend only, the ONNX Runtime WebAssembly binary
 *   embedded (gzip + base64) so nothing is read from disk or fetched.
 * - `browser`: `vlmkit.browser.js` with `ort-wasm-simd-threaded.wasm` next to
 *   it (ONNX Runtime fetches it relative to the bundle), plus the demo page
 *   (`index.html`, `app.js`) that runs a model entirely client-side.
 *
 * Both bundles stub `onnxruntime-node` out (`backend: "native"` fails with a
 * usage error) and replace `src/runtime/wasm_binary.ts`, whose Deno-only
 * `with { type: "bytes" }` import no other runtime understands.
 *
 * npm packages are resolved like Deno does: the entry's imports through
 * `deno.json`'s import map, every package's own dependencies through the
 * versions pinned in `deno.lock`, all from Deno's npm cache.
 *
 * @module
 */
import type * as esbuild from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../../src/errors/usage_error.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { parseCommandArgs, requireString } from "./args.ts";
import { type Command, humanBytes, printJson } from "./command.ts";
import { writeFileAtomically } from "./atomic_file.ts";

const ROOT = new URL("../../", import.meta.url);
const ENTRY = fileURLToPath(new URL("mod.ts", ROOT));
const WEB_PAGE = new URL("tools/web/", ROOT);
const PAGE_FILES = ["index.html", "app.js"];
const WASM_FILE = "ort-wasm-simd-threaded.wasm";

/** Bundle targets. */
export type BundleTarget = "edge" | "browser";

/** One written file. */
export interface BundledFile {
  /** Where it was written. */
  path: string;
  /** Its size. */
  bytes: number;
}

/** What {@linkcode buildBundle} wrote. */
export interface BundleResult {
  /** The target built. */
  target: BundleTarget;
  /** The files, bundle first. */
  files: BundledFile[];
}

/** Options of {@linkcode buildBundle}. */
export interface BuildBundleOptions {
  /** Also copy the demo page into the folder (browser only; default true). */
  page?: boolean;
  /** Minify (default true). */
  minify?: boolean;
}

/** `name@version` → the package's name and version (scoped names keep their `@`). */
function splitPackageId(id: string): { name: string; version: string } {
  const at = id.lastIndexOf("@");
  return at > 0 ? { name: id.slice(0, at), version: id.slice(at + 1) } : { name: id, version: "" };
}

/** The package a bare specifier names: `@scope/name/sub` → `@scope/name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Which version of each dependency every package (and the project) gets. */
interface NpmGraph {
  /** Deno's npm cache for registry.npmjs.org (real path). */
  cache: string;
  /** The project's import map: specifier prefix → package and version. */
  root: Map<string, { name: string; version: string }>;
  /** `name@version` → dependency name → version, from deno.lock. */
  packages: Map<string, Map<string, string>>;
}

async function npmCacheRoot(): Promise<string> {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stderr: "null",
  }).output();
  if (!success) throw new Error("`deno info --json` failed");
  const cache = join(JSON.parse(new TextDecoder().decode(stdout)).npmCache, "registry.npmjs.org");
  return await Deno.realPath(cache);
}

async function readNpmGraph(): Promise<NpmGraph> {
  const imports: Record<string, string> =
    JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).imports ?? {};
  const root = new Map<string, { name: string; version: string }>();
  for (const [key, target] of Object.entries(imports)) {
    const match = /^npm:(@?[^@]+)@([^/]+)$/.exec(target);
    if (match) root.set(key, { name: match[1], version: match[2] });
  }
  const packages = new Map<string, Map<string, string>>();
  let lock: { npm?: Record<string, { dependencies?: string[]; optionalDependencies?: string[] }> };
  try {
    lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT)));
  } catch {
    lock = {};
  }
  const versions = new Map<string, string[]>();
  for (const id of Object.keys(lock.npm ?? {})) {
    const { name, version } = splitPackageId(id);
    versions.set(name, [...(versions.get(name) ?? []), version]);
  }
  for (const [id, entry] of Object.entries(lock.npm ?? {})) {
    const deps = new Map<string, string>();
    for (const dep of [...(entry.dependencies ?? []), ...(entry.optionalDependencies ?? [])]) {
      // A bare name when one version is locked, `name@version` when several are.
      const pinned = splitPackageId(dep);
      const version = pinned.version ||
        (versions.get(dep)?.length === 1 ? versions.get(dep)![0] : "");
      if (version) deps.set(pinned.name || dep, version);
    }
    packages.set(id, deps);
  }
  return { cache: await npmCacheRoot(), root, packages };
}

/**
 * Resolves bare specifiers the way Deno would: from project files through the
 * import map (and `npm:name@version` specifiers), from files of an npm package
 * through its locked dependencies. Each importing package gets a folder of
 * symlinks to exactly its dependencies, and esbuild resolves from there (so
 * package `exports` apply and every file keeps one real path).
 */
function npmResolver(graph: NpmGraph, work: string): esbuild.Plugin {
  const links = new Map<string, Promise<void>>();
  async function contextFor(scope: string, name: string, version: string): Promise<string> {
    const dir = join(work, "scopes", scope.replaceAll("/", "+"));
    const link = join(dir, "node_modules", name);
    if (!links.has(link)) {
      links.set(
        link,
        Deno.mkdir(dirname(link), { recursive: true })
          .then(() => Deno.symlink(join(graph.cache, name, version), link)),
      );
    }
    await links.get(link);
    return dir;
  }
  return {
    name: "vlmkit-npm",
    setup(build) {
      build.onResolve({ filter: /^(npm:)?@?[A-Za-z0-9]/ }, async (args) => {
        if (args.pluginData?.vlmkitInner || args.path.startsWith("node:")) return undefined;
        let scope: string;
        let specifier = args.path;
        let name: string;
        let version: string | undefined;
        const npm = /^npm:(@?[^@/]+(?:\/[^@/]+)?)@([^/]+)(\/.*)?$/.exec(specifier);
        if (npm) {
          [name, version] = [npm[1], npm[2]];
          specifier = name + (npm[3] ?? "");
          scope = `npm:${name}@${version}`;
        } else if (args.importer.startsWith(graph.cache + "/")) {
          const parts = args.importer.slice(graph.cache.length + 1).split("/");
          const owner = parts[0].startsWith("@")
            ? { name: `${parts[0]}/${parts[1]}`, version: parts[2] }
            : { name: parts[0], version: parts[1] };
          scope = `${owner.name}@${owner.version}`;
          name = packageOf(specifier);
          version = graph.packages.get(scope)?.get(name);
        } else {
          scope = "project";
          const key = [...graph.root.keys()].find((k) =>
            specifier === k || specifier.startsWith(k.endsWith("/") ? k : `${k}/`)
          );
          if (!key) return undefined;
          const target = graph.root.get(key)!;
          [name, version] = [target.name, target.version];
          specifier = target.name + specifier.slice(key.length);
        }
        if (!version) return undefined;
        const resolveDir = await contextFor(scope, name, version);
        const result = await build.resolve(specifier, {
          kind: args.kind,
          importer: args.importer,
          resolveDir,
          pluginData: { vlmkitInner: true },
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

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * The edge variant of `wasm_binary.ts`: the binary gzip-compressed in a base64
 * string, inflated with `DecompressionStream` when the wasm backend first loads.
 */
function embeddedWasmModule(compressed: Uint8Array): string {
  return `const GZIP_BASE64 = "${base64(compressed)}";
function decodeBase64(text) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
const inflated = new Blob([decodeBase64(GZIP_BASE64)]).stream()
  .pipeThrough(new DecompressionStream("gzip"));
export const ORT_WASM_BINARY = new Uint8Array(await new Response(inflated).arrayBuffer());
`;
}

/** Replaces the Deno-only wasm import and the native backend for non-Deno targets. */
function targetStubs(target: BundleTarget, wasmPath: string): esbuild.Plugin {
  return {
    name: "vlmkit-target",
    setup(build) {
      build.onResolve({ filter: /(^|\/)wasm_binary\.ts$/ }, () => ({
        path: "wasm_binary",
        namespace: "vlmkit-target",
      }));
      build.onResolve({ filter: /^onnxruntime-node(\/.*)?$/ }, () => ({
        path: "onnxruntime-node",
        namespace: "vlmkit-target",
      }));
      // The Hub client needs a filesystem cache; bundles load models from URLs instead.
      build.onResolve({ filter: /(^|\/)hub\/hf_source\.ts$/ }, () => ({
        path: "hf_source",
        namespace: "vlmkit-target",
      }));
      build.onLoad({ filter: /.*/, namespace: "vlmkit-target" }, async (args) => {
        if (args.path === "hf_source") {
          return {
            contents: "export function resolveHfSource() { throw new Error(" +
              `"hf: sources need the Hub client, which this ${target} bundle leaves out; ` +
              `load the model folder from its URL");}`,
            loader: "js",
          };
        }
        if (args.path === "onnxruntime-node") {
          return {
            contents:
              `throw new Error("this ${target} bundle has no native backend (onnxruntime-node); ` +
              `use the wasm backend");`,
            loader: "js",
          };
        }
        if (target === "browser") {
          // ONNX Runtime fetches ort-wasm-simd-threaded.wasm next to the bundle
          // (new URL(..., import.meta.url)), compiling it while it downloads.
          return { contents: "export const ORT_WASM_BINARY = undefined;", loader: "js" };
        }
        return {
          contents: embeddedWasmModule(await gzip(await Deno.readFile(wasmPath))),
          loader: "js",
        };
      });
    },
  };
}

/** Builds the `target` bundle (and its assets) into `outDir`. */
export async function buildBundle(
  target: BundleTarget,
  outDir: string,
  options: BuildBundleOptions = {},
): Promise<BundleResult> {
  const graph = await readNpmGraph();
  const web = graph.root.get("onnxruntime-web");
  if (!web) throw new Error("deno.json has no onnxruntime-web import");
  const wasmPath = join(graph.cache, web.name, web.version, "dist", WASM_FILE);
  try {
    await Deno.stat(wasmPath);
  } catch (error) {
    throw new VlmError("usage", `${WASM_FILE} is not in Deno's npm cache (${wasmPath})`, {
      fix: "run `deno install` (or any test) once so the npm packages are downloaded",
      cause: error,
    });
  }
  const work = await Deno.makeTempDir({ prefix: "vlmkit-bundle-" });
  let bundle: Uint8Array;
  try {
    // Loaded on use: esbuild reads its environment when imported, which other commands need not allow.
    const { build } = await import("esbuild");
    const result = await build({
      entryPoints: [ENTRY],
      bundle: true,
      format: "esm",
      platform: target === "browser" ? "browser" : "neutral",
      target: "es2022",
      mainFields: ["module", "main"],
      conditions: target === "browser" ? ["browser", "import", "default"] : ["import", "default"],
      plugins: [targetStubs(target, wasmPath), npmResolver(graph, work)],
      write: false,
      logLevel: "silent",
      minify: options.minify ?? true,
      banner: {
        js: `// vlmkit ${target} bundle (${
          target === "browser" ? `needs ${WASM_FILE} next to this file` : "wasm backend"
        })`,
      },
    }).catch((error: Error) => {
      throw new Error(`cannot bundle ${ENTRY}: ${error.message}`, { cause: error });
    });
    bundle = result.outputFiles[0].contents;
  } finally {
    await (await import("esbuild")).stop();
    await Deno.remove(work, { recursive: true });
  }
  await Deno.mkdir(outDir, { recursive: true });
  const files: BundledFile[] = [];
  const write = async (name: string, bytes: Uint8Array) => {
    const path = join(outDir, name);
    await writeFileAtomically(path, bytes);
    files.push({ path, bytes: bytes.byteLength });
  };
  await write(`vlmkit.${target}.js`, bundle);
  if (target === "browser") {
    await write(WASM_FILE, await Deno.readFile(wasmPath));
    if (options.page ?? true) {
      for (const name of PAGE_FILES) {
        await write(name, await Deno.readFile(new URL(name, WEB_PAGE)));
      }
    }
  }
  return { target, files };
}

const usage = `Usage: vlm bundle --out DIR [--target edge|browser] [--no-page] [--json]

Bundles the SDK (mod.ts) with esbuild into one ES module, npm dependencies
inlined, wasm backend only (onnxruntime-node is left out):

  edge     DIR/vlmkit.edge.js: the ONNX Runtime wasm binary embedded, so an
           edge function (Deno Deploy, Supabase) needs no file or network access
           to start. Load models from an http(s) URL, or a path it may read.
  browser  DIR/vlmkit.browser.js and DIR/${WASM_FILE} (fetched relative to the
           bundle), plus a demo page: DIR/index.html, DIR/app.js. Serve DIR and
           a model folder statically and open index.html?model=URL.

Options:
  --out DIR        the folder to write (created; files replaced atomically)
  --target T       edge (default) or browser
  --no-page        browser: write only the bundle and the wasm binary
  --json           print {target, files: [{path, bytes}]}`;

/** `vlm bundle`. */
export const bundleCommand: Command = {
  name: "bundle",
  summary: "bundle the SDK into one ESM file for edge functions or browsers",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("bundle", args, {
      out: { type: "string" },
      target: { type: "string" },
      "no-page": { type: "boolean" },
    });
    if (parsed.positionals.length) {
      throw new UsageError(
        `vlm bundle: unexpected argument "${parsed.positionals[0]}"`,
        "run `vlm bundle --help`",
      );
    }
    const out = requireString("bundle", parsed, "out");
    const target = parsed.values.target ?? "edge";
    if (target !== "edge" && target !== "browser") {
      throw new UsageError(
        `vlm bundle: unknown target "${target}"`,
        "use --target edge or --target browser",
      );
    }
    const result = await buildBundle(target, out, { page: !parsed.values["no-page"] });
    if (parsed.values.json) printJson(result);
    else {
      for (const file of result.files) console.log(`${file.path} (${humanBytes(file.bytes)})`);
    }
    return 0;
  },
};
