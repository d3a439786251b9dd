/**
 * `image_url` values of OpenAI-style requests → image bytes: `data:` URLs
 * decoded in place, `http(s):` URLs fetched with a byte limit (when the
 * server allows remote images). Anything else is refused.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { ImageBudget } from "./image_budget.ts";

/** Limits for remote images. */
export interface ImageUrlOptions {
  /** Fetch `http(s):` URLs (default false: only `data:` URLs). */
  allowRemote: boolean;
  /** Largest image in bytes. */
  maxBytes: number;
  /** Cancels fetching. */
  signal?: AbortSignal;
  /** The request's pixel and time budget: each image is checked against it as it arrives. */
  budget?: ImageBudget;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The bytes of one `image_url`, checked against the request's budget when one is given. */
export async function imageUrlBytes(url: string, options: ImageUrlOptions): Promise<Uint8Array> {
  const bytes = await fetchImageUrl(url, options);
  options.budget?.admit(bytes);
  return bytes;
}

async function fetchImageUrl(url: string, options: ImageUrlOptions): Promise<Uint8Array> {
  if (url.startsWith("data:")) {
    const comma = url.indexOf(",");
    if (comma < 0 || !url.slice(0, comma).endsWith(";base64")) {
      throw new VlmError(
        "input_invalid",
        "image_url data URLs must be base64 (data:image/png;base64,...)",
        {
          fix: "encode the image as base64",
        },
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = decodeBase64(url.slice(comma + 1));
    } catch {
      throw new VlmError("input_invalid", "image_url has invalid base64 data", {
        fix: "re-encode the image",
      });
    }
    if (bytes.length > options.maxBytes) {
      throw new VlmError(
        "image_too_large",
        `image of ${bytes.length} bytes exceeds ${options.maxBytes}`,
        {
          fix: "send a smaller image",
        },
      );
    }
    return bytes;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VlmError(
      "input_invalid",
      `image_url ${JSON.stringify(url.slice(0, 80))} is not a URL`,
      {
        fix: "use a data: URL or an http(s) URL",
      },
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new VlmError("input_invalid", `image_url scheme ${parsed.protocol} is not supported`, {
      fix: "use a data: URL or an http(s) URL",
    });
  }
  if (!options.allowRemote) {
    throw new VlmError("input_invalid", "this server does not fetch remote images", {
      fix: "send the image inline as a data: URL",
    });
  }
  const budget = options.budget;
  const signal = budget
    ? AbortSignal.any([budget.signal, ...(options.signal ? [options.signal] : [])])
    : options.signal;
  try {
    return await fetchRemote(parsed, options.maxBytes, signal);
  } catch (error) {
    // The budget's clock ran out (not the client's or the request's): 408.
    if (budget?.signal.aborted && !options.signal?.aborted) throw budget.timeout();
    throw error;
  }
}

async function fetchRemote(
  parsed: URL,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const response = await fetch(parsed, { signal });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new VlmError("input_invalid", `fetching ${parsed.href} failed: HTTP ${response.status}`, {
      fix: "check the image URL",
    });
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.length;
    if (total > maxBytes) {
      throw new VlmError(
        "image_too_large",
        `image at ${parsed.href} exceeds ${maxBytes} bytes`,
        {
          fix: "send a smaller image",
        },
      );
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
