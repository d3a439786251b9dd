/**
 * Read access to a model folder: a local directory (path or `file:` URL) or
 * an HTTP(S) base URL laid out the same way. Missing files are reported by
 * name, so a wrong folder fails with a message that says what is absent.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { platform } from "../platform/current.ts";

/**
 * A model folder to read files from. Besides the folders {@linkcode openModelFolder}
 * opens, a host can pass its own object to `loadModel` to serve the files from
 * anywhere (a bucket, a database, memory).
 */
export interface ModelFolder {
  /** Where the folder is, for messages. */
  readonly location: string;
  /** Reads a file's bytes, or `undefined` when it does not exist. */
  read(relativePath: string, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /**
   * A local folder's absolute path of an existing file (so a native runtime
   * can read it itself); `undefined` for remote folders and missing files.
   */
  localPath?(relativePath: string): Promise<string | undefined>;
  /**
   * Whether a file exists, without reading it (a stat locally, a HEAD request
   * over HTTP). Lets `loadModel` detect the dtype from the files present;
   * folders without it load fp32 unless a dtype is given.
   */
  has?(relativePath: string, signal?: AbortSignal): Promise<boolean>;
}

function localFolder(base: URL): ModelFolder {
  const host = platform();
  if (!host.fileSystem) {
    throw new VlmError("usage", `reading the local model folder ${base.href} needs a file system`, {
      fix: "pass an http(s) URL to the model folder, or a ModelFolder object, instead",
    });
  }
  return {
    location: decodeURIComponent(base.pathname),
    async localPath(relativePath) {
      const url = new URL(relativePath, base);
      try {
        return (await host.stat(url))?.isFile ? decodeURIComponent(url.pathname) : undefined;
      } catch {
        return undefined;
      }
    },
    async has(relativePath) {
      try {
        return (await host.stat(new URL(relativePath, base)))?.isFile ?? false;
      } catch {
        return false;
      }
    },
    async read(relativePath, signal) {
      try {
        return await host.readFile(new URL(relativePath, base), signal);
      } catch (error) {
        throw new VlmError(
          "model_invalid",
          `cannot read ${relativePath} in ${base.pathname}: ${(error as Error).message}`,
          { fix: "check the folder and that the process may read it (--allow-read)", cause: error },
        );
      }
    },
  };
}

/** `fetch`, with a failure to connect (or a missing --allow-net) as a typed error. */
async function fetchFile(url: URL, init: RequestInit, base: URL): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if ((error as Error)?.name === "AbortError") throw error;
    throw new VlmError(
      "model_invalid",
      `cannot fetch ${url.href}: ${(error as Error)?.message ?? error}`,
      {
        fix: `check that ${base.origin} is reachable and that the process may connect to it ` +
          "(Deno: --allow-net), or load the model from a local folder",
        cause: error,
      },
    );
  }
}

function httpFolder(base: URL): ModelFolder {
  return {
    location: base.href,
    async has(relativePath, signal) {
      const url = new URL(relativePath, base);
      let response = await fetchFile(url, { method: "HEAD", signal }, base);
      await response.body?.cancel();
      if (response.status === 405 || response.status === 501) {
        // A server without HEAD: ask for the first byte instead.
        response = await fetchFile(url, { headers: { Range: "bytes=0-0" }, signal }, base);
        await response.body?.cancel();
      }
      if (response.ok) return true;
      if (response.status === 404) return false;
      throw new VlmError(
        "model_invalid",
        `checking for ${relativePath} at ${base.href} failed with HTTP ${response.status}`,
        { fix: "check the URL and that the server answers HEAD requests, or pass a dtype" },
      );
    },
    async read(relativePath, signal) {
      const response = await fetchFile(new URL(relativePath, base), { signal }, base);
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new VlmError(
          "model_invalid",
          `fetching ${relativePath} from ${base.href} failed with HTTP ${response.status}`,
          { fix: "check the URL and that the server is reachable" },
        );
      }
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

/** Whether `value` is a {@linkcode ModelFolder} object rather than a path or URL. */
export function isModelFolder(value: unknown): value is ModelFolder {
  return typeof value === "object" && value !== null && !(value instanceof URL) &&
    typeof (value as ModelFolder).read === "function" &&
    typeof (value as ModelFolder).location === "string";
}

/** Opens a folder from a path, a `file:` URL or an `http(s):` URL. */
export function openModelFolder(source: string | URL): ModelFolder {
  let url: URL;
  if (source instanceof URL) url = new URL(source.href);
  else if (/^(https?|file):/i.test(source)) url = new URL(source);
  else {
    const cwd = platform().cwd() ?? "/";
    const absolute = source.startsWith("/") ? source : `${cwd}/${source}`;
    url = new URL(`file://${absolute.split("/").map(encodeURIComponent).join("/")}`);
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url.protocol === "file:" ? localFolder(url) : httpFolder(url);
}

/** Reads and parses a JSON file; `undefined` when absent, an error naming the file when malformed. */
export async function readJson(
  folder: ModelFolder,
  relativePath: string,
  signal?: AbortSignal,
): Promise<unknown> {
  const bytes = await folder.read(relativePath, signal);
  if (!bytes) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new VlmError("model_invalid", `${relativePath} in ${folder.location} is not valid JSON`, {
      fix: "restore the file from the model's published copy",
      cause: error,
    });
  }
}

/** Like {@linkcode readJson} but the file must exist. */
export async function requireJson(
  folder: ModelFolder,
  relativePath: string,
  signal?: AbortSignal,
): Promise<unknown> {
  const value = await readJson(folder, relativePath, signal);
  if (value === undefined) {
    throw new VlmError("model_invalid", `${folder.location} has no ${relativePath}`, {
      fix:
        "point at a model folder in the Hugging Face layout (config.json, onnx/, tokenizer.json)",
    });
  }
  return value;
}
