/**
 * One-file ESM bundles with esbuild. npm packages named in `deno.json`'s
 * import map are resolved from Deno's npm cache: each is linked under a
 * temporary `node_modules/` so esbuild's own Node resolution (package
 * `exports` included) finds it, and its code is inlined into the bundle.
 *
 * @module
 */
import type * as Esbuild from "esbuild";
import { dirname, join } from "node:path";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { writeFileAtomically } from "./atomic_file.ts";

const DENO_JSON = new URL("../../deno.json", import.meta.url);

/** Deno's npm cache folder (`deno info --json`). */
async function npmCache(): Promise<string> {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] })
    .output();
  if (!success) throw new Error("`deno info --json` failed");
  return JSON.parse(new TextDecoder().decode(stdout)).npmCache;
}

/** Links every `npm:` import of deno.json into `dir/node_modules`; returns that folder. */
async function linkNpmPackages(dir: string): Promise<string> {
  const imports: Record<string, string> = JSON.parse(await Deno.readTextFile(DENO_JSON)).imports;
  const cache = join(await npmCache(), "registry.npmjs.org");
  const modules = join(dir, "node_modules");
  for (const [name, target] of Object.entries(imports)) {
    const match = /^npm:(@?[^@]+)@([^/]+)$/.exec(target);
    if (!match) continue;
    const source = join(cache, match[1], match[2]);
    try {
      await Deno.stat(source);
    } catch {
      continue; // not downloaded yet: only packages the bundle imports matter
    }
    const link = join(modules, name);
    await Deno.mkdir(dirname(link), { recursive: true });
    await Deno.symlink(source, link);
  }
  return modules;
}

/** Options of {@linkcode bundleModule}. */
export interface BundleOptions {
  /** `neutral` for Deno edge functions (default), `browser` for pages. */
  platform?: "neutral" | "browser";
  /** Imports left as they are (e.g. `npm:onnxruntime-web`). */
  external?: string[];
}

/** Bundles the module at `entry` into one ESM file at `out` (written atomically). */
export async function bundleModule(
  entry: string,
  out: string,
  options: BundleOptions = {},
): Promise<number> {
  // Loaded on use: esbuild reads its environment when imported, which other commands need not allow.
  const esbuild: typeof Esbuild = await import("esbuild");
  const work = await Deno.makeTempDir({ prefix: "vlmkit-bundle-" });
  try {
    const nodeModules = await linkNpmPackages(work);
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: options.platform ?? "neutral",
      target: "es2022",
      mainFields: ["module", "main"],
      conditions: ["import", "default"],
      nodePaths: [nodeModules],
      external: options.external ?? [],
      write: false,
      logLevel: "silent",
      minify: true,
    }).catch((error: Error) => {
      throw new VlmError("input_invalid", `cannot bundle ${entry}: ${error.message}`, {
        fix:
          "check that the file exists and that its imports resolve (relative paths or deno.json imports)",
        cause: error,
      });
    });
    const bytes = result.outputFiles[0].contents;
    await Deno.mkdir(dirname(out), { recursive: true });
    await writeFileAtomically(out, bytes);
    return bytes.byteLength;
  } finally {
    await esbuild.stop();
    await Deno.remove(work, { recursive: true });
  }
}
