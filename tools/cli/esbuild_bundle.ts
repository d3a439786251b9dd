/**
 * One-file ESM bundles with esbuild, for `vlm bundle` (the SDK) and
 * `vlm plugin bundle` (a plugin). Imports resolve as Deno resolves them for
 * the entry (its own `deno.json`, see `deno_resolver.ts`), npm code is inlined
 * from Deno's npm cache, and the WebAssembly binaries the sources leave to
 * their npm packages are embedded (`wasm_embed.ts`); `z` from `vlmkit/plugin`
 * is imported as a namespace so zod is trimmed (`zod_namespace.ts`).
 *
 * @module
 */
import type * as Esbuild from "esbuild";
import { dirname } from "node:path";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { writeFileAtomically } from "./atomic_file.ts";
import { type DenoGraph, denoResolver, readDenoGraph } from "./deno_resolver.ts";
import { wasmEmbedding, type WasmEmbeddingOptions } from "./wasm_embed.ts";
import { zodNamespace } from "./zod_namespace.ts";

/** Options of {@linkcode bundleModule}. */
export interface BundleOptions {
  /** `neutral` for Deno edge functions and plugins (default), `browser` for pages. */
  platform?: "neutral" | "browser";
  /** Minify (default true). */
  minify?: boolean;
  /** A comment put first in the file. */
  banner?: string;
  /** How ONNX Runtime's binary is shipped, if the bundle loads it (default: embedded). */
  ortWasm?: WasmEmbeddingOptions["ort"];
  /** Plugins that run before resolution (stubs), made from the entry's module graph. */
  plugins?: (graph: DenoGraph) => Esbuild.Plugin[];
}

/** What {@linkcode bundleModule} wrote. */
export interface BundleOutput {
  /** The bundle's path. */
  out: string;
  /** Its size in bytes. */
  bytes: number;
  /** The files inlined, as esbuild names them (paths relative to the working directory). */
  inputs: string[];
  /** The entry's module graph, as Deno resolves it. */
  graph: DenoGraph;
}

/** Bundles the module at `entry` into one ESM file at `out` (written atomically). */
export async function bundleModule(
  entry: string,
  out: string,
  options: BundleOptions = {},
): Promise<BundleOutput> {
  const graph = await readDenoGraph(entry);
  // Loaded on use: esbuild reads its environment when imported, which other commands need not allow.
  const esbuild: typeof Esbuild = await import("esbuild");
  const work = await Deno.makeTempDir({ prefix: "vlmkit-bundle-" });
  try {
    const browser = options.platform === "browser";
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: options.platform ?? "neutral",
      target: "es2022",
      mainFields: ["module", "main"],
      conditions: browser ? ["browser", "import", "default"] : ["import", "default"],
      plugins: [
        ...(options.plugins?.(graph) ?? []),
        wasmEmbedding(graph, { ort: options.ortWasm }),
        zodNamespace(graph),
        denoResolver(graph, work),
      ],
      write: false,
      metafile: true,
      logLevel: "silent",
      minify: options.minify ?? true,
      ...(options.banner ? { banner: { js: options.banner } } : {}),
    }).catch((error: Error) => {
      throw new VlmError("input_invalid", `cannot bundle ${entry}: ${error.message}`, {
        fix: "check that its imports resolve under Deno (relative paths, deno.json imports, npm:)",
        cause: error,
      });
    });
    const bytes = result.outputFiles[0].contents;
    await Deno.mkdir(dirname(out), { recursive: true });
    await writeFileAtomically(out, bytes);
    return { out, bytes: bytes.byteLength, inputs: Object.keys(result.metafile.inputs), graph };
  } finally {
    await esbuild.stop();
    await Deno.remove(work, { recursive: true });
  }
}
