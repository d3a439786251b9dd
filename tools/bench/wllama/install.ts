/**
 * Installs the pinned wllama (llama.cpp compiled to WebAssembly, prebuilt, from
 * npm) into `.artifacts/wllama/`, for the wasm-anchor bench and its agreement
 * test only; vlmkit never depends on it. `npm install` from the committed
 * lockfile without install scripts, as for llama.cpp (../llama_cpp/install.ts).
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const HERE = new URL("./", import.meta.url);
const TARGET = new URL("../../../.artifacts/wllama/", import.meta.url);

async function same(a: URL, b: URL): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([
      Deno.readTextFile(a),
      Deno.readTextFile(b),
    ]);
    return x === y;
  } catch {
    return false;
  }
}

/** wllama's installed package: its ES module and its WebAssembly binary. */
export interface WllamaPackage {
  /** The package version, e.g. `3.13.0`. */
  version: string;
  /** Folder of `index.js` (the ES module) and `wasm/wllama.wasm`. */
  esm: string;
}

/** Installs wllama on first use (or when the lockfile changed) and says where it is. */
export async function ensureWllama(): Promise<WllamaPackage> {
  const lock = new URL("package-lock.json", HERE);
  const installed = new URL("package-lock.json", TARGET);
  const pkg = new URL("node_modules/@wllama/wllama/package.json", TARGET);
  if (
    !(await same(lock, installed) &&
      await Deno.stat(pkg).then(() => true, () => false))
  ) {
    await Deno.mkdir(TARGET, { recursive: true });
    await Deno.copyFile(
      new URL("package.json", HERE),
      new URL("package.json", TARGET),
    );
    await Deno.copyFile(lock, installed);
    const { code, stderr } = await new Deno.Command("npm", {
      args: ["install", "--ignore-scripts", "--no-audit", "--no-fund"],
      cwd: fileURLToPath(TARGET),
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      await Deno.remove(installed).catch(() => {});
      throw new Error(
        `npm install of wllama failed:\n${new TextDecoder().decode(stderr)}`,
      );
    }
  }
  const { version } = JSON.parse(await Deno.readTextFile(pkg)) as {
    version: string;
  };
  const esm = fileURLToPath(
    new URL("node_modules/@wllama/wllama/esm/", TARGET),
  );
  await Deno.stat(`${esm}wasm/wllama.wasm`);
  return { version, esm };
}
