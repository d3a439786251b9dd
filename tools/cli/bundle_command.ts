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
 * usage error) and the Hub client; the JPEG decoder's binary is embedded in
 * both. Imports resolve as Deno resolves them (see `esbuild_bundle.ts`).
 *
 * @module
 */
import type * as esbuild from "esbuild";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../../src/errors/usage_error.ts";
import { parseCommandArgs, requireString } from "./args.ts";
import { type Command, humanBytes, printJson } from "./command.ts";
import { writeFileAtomically } from "./atomic_file.ts";
import { bundleModule } from "./esbuild_bundle.ts";
import { ortWasmPath } from "./wasm_embed.ts";

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

/** Leaves out the native backend and the Hub client, which need a filesystem. */
function targetStubs(target: BundleTarget): esbuild.Plugin {
  return {
    name: "vlmkit-target",
    setup(build) {
      build.onResolve({ filter: /^(npm:)?onnxruntime-node(@[^/]*)?(\/.*)?$/ }, () => ({
        path: "onnxruntime-node",
        namespace: "vlmkit-target",
      }));
      // The Hub client needs a filesystem cache; bundles read hf: repos over fetch instead
      // (loadModel takes an undefined local folder as "use the Hub's resolve URLs").
      build.onResolve({ filter: /(^|\/)hub\/hf_source\.ts$/ }, () => ({
        path: "hf_source",
        namespace: "vlmkit-target",
      }));
      build.onLoad({ filter: /.*/, namespace: "vlmkit-target" }, (args) => {
        if (args.path === "hf_source") {
          return {
            contents: "export async function resolveHfSource() { return undefined; }",
            loader: "js",
          };
        }
        return {
          contents:
            `throw new Error("this ${target} bundle has no native backend (onnxruntime-node); ` +
            `use the wasm backend");`,
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
  const browser = target === "browser";
  const bundle = await bundleModule(ENTRY, join(outDir, `vlmkit.${target}.js`), {
    platform: browser ? "browser" : "neutral",
    minify: options.minify,
    // Browsers fetch ONNX Runtime's binary next to the bundle, compiling it while it downloads.
    ortWasm: browser ? "external" : "embed",
    banner: `// vlmkit ${target} bundle (${
      browser ? `needs ${WASM_FILE} next to this file` : "wasm backend"
    })`,
    plugins: () => [targetStubs(target)],
  });
  const files: BundledFile[] = [{ path: bundle.out, bytes: bundle.bytes }];
  const write = async (name: string, bytes: Uint8Array) => {
    const path = join(outDir, name);
    await writeFileAtomically(path, bytes);
    files.push({ path, bytes: bytes.byteLength });
  };
  if (browser) {
    await write(WASM_FILE, await Deno.readFile(ortWasmPath(bundle.graph)));
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
