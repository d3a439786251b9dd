/**
 * Embeds WebAssembly binaries into bundles. The sources name no binary
 * (`src/runtime/wasm_binary.ts`, `src/image/jpeg_wasm_binary.ts` and
 * `src/document/pdfium_wasm_binary.ts` export
 * `undefined`, so Deno and Node read the files from their npm packages); a
 * bundle substitutes those modules with ones that carry the bytes, gzip
 * compressed in a base64 string and inflated with `DecompressionStream` when
 * the module loads (PDFium's on first use instead), so it runs with no file
 * access and no fetch.
 *
 * @module
 */
import type * as esbuild from "esbuild";
import { dirname, join } from "node:path";
import { VlmError } from "../../src/errors/vlm_error.ts";
import type { DenoGraph } from "./deno_resolver.ts";

/** A binary a module of the sources stands for. */
interface EmbeddedBinary {
  /** The module's path in vlmkit's sources. */
  module: string;
  /** The constant it exports. */
  exportName: string;
  /** The npm package holding the binary. */
  packageName: string;
  /** The binary's path inside the package. */
  file: string;
  /**
   * Export a function that inflates the bytes on first call instead of the
   * bytes (for a binary most bundle users never need, so loading stays cheap).
   */
  lazy?: boolean;
}

const ORT: EmbeddedBinary = {
  module: "src/runtime/wasm_binary.ts",
  exportName: "ORT_WASM_BINARY",
  packageName: "onnxruntime-web",
  file: "dist/ort-wasm-simd-threaded.wasm",
};

const JPEG: EmbeddedBinary = {
  module: "src/image/jpeg_wasm_binary.ts",
  exportName: "JPEG_WASM_BINARY",
  packageName: "@jsquash/jpeg",
  file: "codec/dec/mozjpeg_dec.wasm",
};

const PDFIUM: EmbeddedBinary = {
  module: "src/document/pdfium_wasm_binary.ts",
  exportName: "loadPdfiumWasmBinary",
  packageName: "@embedpdf/pdfium",
  file: "dist/pdfium.wasm",
  lazy: true,
};

/** Options of {@linkcode wasmEmbedding}. */
export interface WasmEmbeddingOptions {
  /**
   * `embed` (default) puts ONNX Runtime's binary in the bundle; `external`
   * leaves it out, and ONNX Runtime fetches `ort-wasm-simd-threaded.wasm`
   * next to the bundle (browsers, which compile it while it downloads).
   */
  ort?: "embed" | "external";
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
 * A module exporting `name` as the inflated bytes of `compressed`, or with
 * `lazy` as a function resolving to them (inflated once, on first call).
 */
function embeddedModule(name: string, compressed: Uint8Array, lazy = false): string {
  return `const GZIP_BASE64 = "${base64(compressed)}";
function decodeBase64(text) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
async function inflate() {
  const inflated = new Blob([decodeBase64(GZIP_BASE64)]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}
${
    lazy
      ? `let inflating;\nexport const ${name} = () => (inflating ??= inflate());`
      : `export const ${name} = await inflate();`
  }
`;
}

/** The binary's path in the version of its package that the entry's modules import. */
export function binaryPath(graph: DenoGraph, binary: EmbeddedBinary): string {
  const versions = [...graph.imported].map((id) => graph.packages.get(id)!)
    .filter((p) => p.name === binary.packageName);
  if (versions.length !== 1) {
    throw new VlmError(
      "usage",
      `the bundle needs exactly one version of ${binary.packageName} imported, found ${versions.length}`,
      { fix: `import ${binary.packageName} at one pinned version` },
    );
  }
  return join(versions[0].localPath, binary.file);
}

/** The path of ONNX Runtime's wasm binary in the graph's onnxruntime-web. */
export function ortWasmPath(graph: DenoGraph): string {
  return binaryPath(graph, ORT);
}

/** The esbuild plugin substituting the binary modules of the sources. */
export function wasmEmbedding(
  graph: DenoGraph,
  options: WasmEmbeddingOptions = {},
): esbuild.Plugin {
  const binaries = [ORT, JPEG, PDFIUM];
  return {
    name: "vlmkit-wasm-embedding",
    setup(build) {
      // PDFium's default build loads Node's `module` when `process` exists (Deno has it);
      // the browser build needs nothing from the host once the binary is given.
      build.onResolve({ filter: /^npm:@embedpdf\/pdfium@[^/]*$/ }, () => ({
        path: binaryPath(graph, { ...PDFIUM, file: "dist/index.browser.js" }),
      }));
      build.onResolve({ filter: /wasm_binary\.ts$/ }, (args) => {
        const path = join(dirname(args.importer), args.path);
        const binary = binaries.find((b) => path.endsWith(`/${b.module}`));
        return binary ? { path: binary.module, namespace: "vlmkit-wasm" } : undefined;
      });
      build.onLoad({ filter: /.*/, namespace: "vlmkit-wasm" }, async (args) => {
        const binary = binaries.find((b) => b.module === args.path)!;
        if (binary === ORT && options.ort === "external") {
          return { contents: `export const ${binary.exportName} = undefined;`, loader: "js" };
        }
        const bytes = await Deno.readFile(binaryPath(graph, binary));
        return {
          contents: embeddedModule(binary.exportName, await gzip(bytes), binary.lazy),
          loader: "js",
        };
      });
    },
  };
}
