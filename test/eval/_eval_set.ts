/**
 * The shipped model's evaluation set (500 items of seed 9001), regenerated
 * from its seed by `tools/train/gen.py` into a git-ignored cache instead of
 * being committed, and checked file by file against the committed manifest
 * `test/fixtures/tiny-smolvlm-eval/SHA256SUMS` (made from the images once
 * committed), so the tests score exactly the set the README's numbers are on.
 *
 * @module
 */

/** Seed and size of the evaluation set. */
export const EVAL_SEED = 9001;
/** Number of items of the evaluation set. */
export const EVAL_COUNT = 500;

const REPO = new URL("../../", import.meta.url);
/** The committed fixture folder: manifest and PyTorch's predictions. */
export const FIXTURE_DIR: URL = new URL("test/fixtures/tiny-smolvlm-eval/", REPO);
/** Where the regenerated set is cached (git-ignored). */
export const CACHE_DIR: URL = new URL(`.artifacts/tiny-smolvlm-eval-${EVAL_SEED}/`, REPO);
const GENERATOR = new URL("tools/train/gen.py", REPO).pathname;
// Debian's interpreter, with python3-pil and python3-numpy (the set was made with them).
const PYTHON = "/usr/bin/python3";
const INSTALL = "apt-get install python3-pil python3-numpy fonts-dejavu-core";

/** Parses `sha256sum` output (`HEX  NAME` per line) into name → lower-case hex digest. */
export function parseSha256Sums(text: string, source: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const match = /^([0-9a-fA-F]{64}) [ *](\S.*)$/.exec(line);
    if (!match) throw new Error(`${source}:${i + 1}: not "SHA256  NAME": ${JSON.stringify(line)}`);
    if (sums.has(match[2])) throw new Error(`${source}:${i + 1}: ${match[2]} listed twice`);
    sums.set(match[2], match[1].toLowerCase());
  }
  return sums;
}

/** The lower-case hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Names of `dir`'s files that are missing or differ from `sums` (empty: exact). */
export async function driftedFiles(dir: URL, sums: Map<string, string>): Promise<string[]> {
  const drifted: string[] = [];
  for (const [name, want] of sums) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await Deno.readFile(new URL(name, dir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        drifted.push(`${name} (missing)`);
        continue;
      }
      throw error;
    }
    if (await sha256Hex(bytes) !== want) drifted.push(name);
  }
  return drifted;
}

/** Runs the generator into a fresh folder next to the cache and moves it into place. */
async function generate(): Promise<void> {
  const target = CACHE_DIR.pathname.replace(/\/$/, "");
  const staging = `${target}.${Deno.pid}`;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(PYTHON, {
      args: [
        GENERATOR,
        "--seed",
        String(EVAL_SEED),
        "--count",
        String(EVAL_COUNT),
        "--out",
        staging,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error(`cannot run ${PYTHON} to regenerate the evaluation set (${INSTALL})`, {
      cause: error,
    });
  }
  if (!output.success) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw new Error(
      `tools/train/gen.py failed to regenerate the evaluation set (${INSTALL}):\n` +
        new TextDecoder().decode(output.stderr),
    );
  }
  await Deno.remove(target, { recursive: true }).catch(() => {});
  try {
    await Deno.rename(staging, target);
  } catch (error) {
    // Another test process published the same set first: keep that one.
    await Deno.remove(staging, { recursive: true });
    if (!(await Deno.stat(target).then(() => true, () => false))) throw error;
  }
}

/**
 * The folder holding the evaluation set (`labels.jsonl` and `NNNNNN.png`),
 * regenerated only when the cache is missing or differs from the manifest.
 * Throws, naming the files, when a fresh regeneration does not reproduce the
 * manifest byte for byte (the generator, Pillow, numpy or the fonts changed).
 */
export async function evalSetDir(): Promise<URL> {
  const manifest = new URL("SHA256SUMS", FIXTURE_DIR);
  const sums = parseSha256Sums(await Deno.readTextFile(manifest), manifest.pathname);
  if ((await driftedFiles(CACHE_DIR, sums)).length === 0) return CACHE_DIR;
  await generate();
  const drifted = await driftedFiles(CACHE_DIR, sums);
  if (drifted.length > 0) {
    throw new Error(
      `the regenerated evaluation set differs from test/fixtures/tiny-smolvlm-eval/SHA256SUMS in ` +
        `${drifted.length} of ${sums.size} files (${drifted.slice(0, 5).join(", ")}` +
        `${drifted.length > 5 ? ", ..." : ""}): tools/train/gen.py or its Pillow, numpy or ` +
        `DejaVu fonts no longer reproduce the set the model was scored on`,
    );
  }
  return CACHE_DIR;
}
