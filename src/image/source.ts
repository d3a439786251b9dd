/**
 * Where image bytes come from: raw bytes, a Blob, a URL (fetched), or a
 * local path. Core code stays on web APIs; a path is read through the
 * platform seam (Deno and Node; other hosts have no file system).
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { platform } from "../platform/current.ts";

/** Anything vlmkit accepts as an image. */
export type ImageSource = Uint8Array | ArrayBuffer | Blob | URL | string;

/** Options for {@linkcode readImageSource}. */
export interface ReadImageOptions {
  /** Cancels a pending fetch or read. */
  signal?: AbortSignal;
}

function isUrlLike(text: string): boolean {
  return /^(https?|file|data|blob):/i.test(text);
}

async function fetchBytes(url: URL, signal?: AbortSignal): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new VlmError("input_invalid", `could not fetch image ${url.href}: ${String(error)}`, {
      fix: "check the URL and the network (and --allow-net / --allow-read)",
      cause: error,
    });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new VlmError(
      "input_invalid",
      `fetching image ${url.href} failed with HTTP ${response.status}`,
      { fix: "check the URL" },
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Resolves an {@linkcode ImageSource} to its encoded bytes. */
export async function readImageSource(
  source: ImageSource,
  options: ReadImageOptions = {},
): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (source instanceof URL) return await fetchBytes(source, options.signal);
  if (isUrlLike(source)) return await fetchBytes(new URL(source), options.signal);
  const host = platform();
  if (!host.fileSystem) {
    throw new VlmError("input_invalid", `cannot read the path "${source}" in this runtime`, {
      fix: "pass the image bytes, a Blob or a URL instead of a path",
    });
  }
  let bytes: Uint8Array | undefined;
  try {
    bytes = await host.readFile(source, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new VlmError(
      "input_invalid",
      `cannot read image file "${source}": ${(error as Error).message}`,
      { fix: "check the path (and that the process may read it: --allow-read)", cause: error },
    );
  }
  if (!bytes) {
    throw new VlmError("input_invalid", `image file "${source}" does not exist`, {
      fix: "check the path",
    });
  }
  return bytes;
}
