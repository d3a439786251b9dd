/**
 * `POST /v1/documents`: a PDF or page images in a JSON body, DocTags page
 * results out as server-sent events while the pages convert, then the whole
 * document in the requested format.
 *
 * Request (JSON; binary travels as base64 `data:` URLs, like the images of
 * the other routes, so one body format serves every route):
 * ```json
 * { "document": "data:application/pdf;base64,...",      // or
 *   "images": ["data:image/png;base64,...", ...],        // one page each
 *   "to": "md" | "html" | "json" | "doctags",            // default "md"
 *   "pages": "1-3,7", "dpi": 144, "max_tokens": 512 }   // optional
 * ```
 * Response: `text/event-stream` with `event: document` (`{kind, source_pages,
 * pages}`), one `event: page` per page as it finishes (a `PageResult`), and
 * `event: done` (`{to, output, pages, pictures}`; `output` is the
 * DoclingDocument object for `json`, text otherwise, and references each
 * picture by its relative `path`; `pictures` carries the crops as
 * `{path, page_no, bbox, size, data_url}` with a PNG `data:` URL, so one
 * response holds the whole document) or `event: error` (`{error}`) if the run
 * stops.
 * Bad input (an encrypted or corrupt PDF, a bad page selection, too many
 * pages) is an ordinary JSON error response before any event. The document
 * holds the server's one generation slot for all its pages, within the
 * server's per-request time limit.
 *
 * @module
 */
import { convertDocument, type DocumentConversion } from "../document/convert_document.ts";
import type { AssembledDocument } from "../document/assemble_pages.ts";
import { VlmError } from "../errors/vlm_error.ts";
import type { TaskModel } from "../runtime/tasks/run_task.ts";
import { errorBody, toVlmError } from "./http_error.ts";
import { imageUrlBytes, type ImageUrlOptions } from "./image_urls.ts";

const FORMATS = ["md", "html", "json", "doctags"] as const;
type Format = typeof FORMATS[number];

/** What the route needs from the handler. */
export interface DocumentsContext {
  /** The model. */
  model: TaskModel;
  /** The server's cap on new tokens (per page here). */
  maxNewTokens: number;
  /** Limits for the body's images (and the PDF's size). */
  images: ImageUrlOptions;
  /** Pixel limit of one rendered page. */
  maxPixels: number;
  /** The request's time limit. */
  timeout: AbortSignal;
  /** Waits for the generation slot; a Response when the queue is full. */
  admit(signal: AbortSignal): Promise<(() => void) | Response>;
  /** Counts a client that went away. */
  onDisconnect(): void;
}

interface DocumentsBody {
  document?: string;
  images?: string[];
  to: Format;
  pages?: string;
  dpi?: number;
  maxTokens?: number;
}

function invalid(message: string, fix: string): VlmError {
  return new VlmError("input_invalid", message, { fix });
}

function checkBody(json: unknown, maxNewTokens: number): DocumentsBody {
  const example = 'send {"document": "data:application/pdf;base64,...", "to": "md"}';
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw invalid("the documents request body must be a JSON object", example);
  }
  const body = json as Record<string, unknown>;
  const known = new Set(["document", "images", "to", "pages", "dpi", "max_tokens"]);
  const unknown = Object.keys(body).filter((key) => !known.has(key));
  if (unknown.length) {
    throw invalid(`unknown field ${unknown.map((k) => `"${k}"`).join(", ")}`, `use ${[...known]}`);
  }
  const hasDocument = body.document !== undefined;
  if (hasDocument === (body.images !== undefined)) {
    throw invalid("send either document (a PDF) or images (one per page)", example);
  }
  if (hasDocument && typeof body.document !== "string") {
    throw invalid("document must be a data: URL string", example);
  }
  if (
    body.images !== undefined &&
    !(Array.isArray(body.images) && body.images.every((u) => typeof u === "string"))
  ) {
    throw invalid("images must be a list of image data: URLs", "send data:image/png;base64,...");
  }
  const to = body.to ?? "md";
  if (!FORMATS.includes(to as Format)) {
    throw invalid(`to must be one of ${FORMATS.join(", ")}`, 'use "to": "md"');
  }
  if (body.pages !== undefined && typeof body.pages !== "string") {
    throw invalid('pages must be a string such as "1-3,7"', 'send "pages": "1-3,7"');
  }
  if (body.dpi !== undefined && typeof body.dpi !== "number") {
    throw invalid("dpi must be a number", 'send "dpi": 144');
  }
  const maxTokens = body.max_tokens;
  if (
    maxTokens !== undefined &&
    !(typeof maxTokens === "number" && Number.isInteger(maxTokens) && maxTokens > 0)
  ) {
    throw invalid("max_tokens must be a positive integer", `send at most ${maxNewTokens}`);
  }
  if (typeof maxTokens === "number" && maxTokens > maxNewTokens) {
    throw invalid(
      `max_tokens ${maxTokens} exceeds this server's limit of ${maxNewTokens}`,
      `ask for at most ${maxNewTokens} tokens per page`,
    );
  }
  return {
    document: body.document as string | undefined,
    images: body.images as string[] | undefined,
    to: to as Format,
    pages: body.pages as string | undefined,
    dpi: body.dpi as number | undefined,
    maxTokens: maxTokens as number | undefined,
  };
}

/** The bytes of a base64 `data:` URL, within `maxBytes`. */
function dataUrlBytes(url: string, maxBytes: number): Uint8Array {
  const comma = url.indexOf(",");
  if (!url.startsWith("data:") || comma < 0 || !url.slice(0, comma).endsWith(";base64")) {
    throw invalid("document must be a base64 data: URL", "send data:application/pdf;base64,...");
  }
  let binary: string;
  try {
    binary = atob(url.slice(comma + 1));
  } catch {
    throw invalid("document has invalid base64 data", "re-encode the PDF as base64");
  }
  if (binary.length > maxBytes) {
    throw new VlmError(
      "payload_too_large",
      `the document's ${binary.length} bytes exceed ${maxBytes}`,
      {
        fix: "send a smaller document or fewer pages",
      },
    );
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function output(document: AssembledDocument, to: Format): unknown {
  return to === "md"
    ? document.markdown
    : to === "html"
    ? document.html
    : to === "json"
    ? document.json
    : document.doctags;
}

const encoder = new TextEncoder();
const event = (name: string, data: unknown) =>
  encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);

/** The route as the server handler calls it (`ServerOptions.documents`). */
export type DocumentsRoute = (context: DocumentsContext, json: unknown) => Promise<Response>;

/** A PNG as a base64 `data:` URL. */
function pngDataUrl(png: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < png.length; i += 0x8000) {
    binary += String.fromCharCode(...png.subarray(i, i + 0x8000));
  }
  return `data:image/png;base64,${btoa(binary)}`;
}

/**
 * Handles `POST /v1/documents` for a parsed JSON body. Give it to the server
 * handler as its `documents` option to serve the route.
 */
export async function documentsRoute(
  context: DocumentsContext,
  json: unknown,
): Promise<Response> {
  const body = checkBody(json, context.maxNewTokens);
  const source = body.document !== undefined
    ? dataUrlBytes(body.document, context.images.maxBytes)
    : await Promise.all(body.images!.map((url) => imageUrlBytes(url, context.images)));
  const disconnect = new AbortController();
  const signal = AbortSignal.any([context.timeout, disconnect.signal]);
  // Opening checks the document before the response starts: bad input is a plain 4xx.
  const conversion: DocumentConversion = await convertDocument(context.model, source, {
    pages: body.pages,
    dpi: body.dpi,
    maxNewTokens: body.maxTokens ?? context.maxNewTokens,
    maxPixels: context.maxPixels,
    signal,
  });
  const admitted = await context.admit(signal);
  if (admitted instanceof Response) {
    await conversion.close();
    return admitted;
  }
  const release = admitted;
  const events = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (name: string, data: unknown) => {
        if (!disconnect.signal.aborted) controller.enqueue(event(name, data));
      };
      try {
        send("document", {
          kind: conversion.kind,
          source_pages: conversion.sourcePages,
          pages: conversion.pageNumbers,
        });
        for await (const page of conversion) send("page", page);
        const done = await conversion.result();
        send("done", {
          to: body.to,
          output: output(done.document, body.to),
          pages: done.pages.map(({ doctags: _, ...page }) => page),
          pictures: done.document.pictures.map((picture) => ({
            path: picture.path,
            page_no: picture.pageNo,
            bbox: picture.bbox,
            size: picture.size,
            data_url: pngDataUrl(picture.png),
          })),
        });
      } catch (error) {
        send("error", errorBody(toVlmError(error)));
      } finally {
        release();
        if (!disconnect.signal.aborted) controller.close();
      }
    },
    cancel() {
      context.onDisconnect();
      disconnect.abort(new DOMException("client disconnected", "AbortError"));
    },
  });
  return new Response(events, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    },
  });
}
