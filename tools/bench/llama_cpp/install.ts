/**
 * Installs the pinned llama.cpp build (node-llama-cpp's prebuilt CPU
 * binaries for linux-x64, from npm) into `.artifacts/llama-cpp/`, for the
 * side-by-side bench and its agreement test only; vlmkit never depends on it.
 * `npm install` from the committed lockfile (not `npm ci`: npm refuses a
 * lock whose platform packages the registry lacks), without install scripts
 * (no source build, no downloads beyond the registry) and without the
 * optional GPU builds.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const HERE = new URL("./", import.meta.url);
const TARGET = new URL("../../../.artifacts/llama-cpp/", import.meta.url);

async function same(a: URL, b: URL): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([Deno.readTextFile(a), Deno.readTextFile(b)]);
    return x === y;
  } catch {
    return false;
  }
}

/** The folder holding `node_modules/node-llama-cpp`, installed on first use. */
export async function ensureLlamaCpp(): Promise<string> {
  const lock = new URL("package-lock.json", HERE);
  const installed = new URL("package-lock.json", TARGET);
  const addon = new URL("node_modules/node-llama-cpp/package.json", TARGET);
  if (await same(lock, installed) && await Deno.stat(addon).then(() => true, () => false)) {
    return fileURLToPath(TARGET);
  }
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    throw new Error(`the bench pins llama.cpp's linux-x64 build; this is ${Deno.build.target}`);
  }
  await Deno.mkdir(TARGET, { recursive: true });
  await Deno.copyFile(new URL("package.json", HERE), new URL("package.json", TARGET));
  await Deno.copyFile(lock, installed);
  const npm = new Deno.Command("npm", {
    args: ["install", "--ignore-scripts", "--omit=optional", "--no-audit", "--no-fund"],
    cwd: fileURLToPath(TARGET),
    stdout: "null",
    stderr: "piped",
  });
  const { code, stderr } = await npm.output();
  if (code !== 0) {
    await Deno.remove(installed).catch(() => {});
    throw new Error(`npm install of llama.cpp failed:\n${new TextDecoder().decode(stderr)}`);
  }
  return fileURLToPath(TARGET);
}

/** Runs one of this folder's node scripts with llama.cpp resolvable; returns its last stdout line as JSON. */
export async function runLlamaCppScript(script: string, args: string[]): Promise<unknown> {
  const root = await ensureLlamaCpp();
  // The script is copied next to node_modules so that node resolves the package from it.
  const copy = `${root}${script}`;
  await Deno.copyFile(new URL(script, HERE), copy);
  const { code, stdout, stderr } = await new Deno.Command("node", {
    args: [copy, ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout).trim().split("\n").pop() ?? "";
  if (code !== 0 || !out.startsWith("{")) {
    throw new Error(`${script} failed (${code}):\n${new TextDecoder().decode(stderr)}`);
  }
  return JSON.parse(out);
}
