/**
 * Errors as HTTP responses: a status from the error's code and the body
 * `{error: {code, message, fix}}`, the same shape the CLI prints.
 *
 * @module
 */
import { VlmError, type VlmErrorCode } from "../errors/vlm_error.ts";

/** Codes the server adds for conditions that only exist over HTTP. */
export type ServerErrorCode =
  | "not_found"
  | "payload_too_large"
  | "queue_full"
  | "timeout"
  | "internal";

const STATUS: Partial<Record<VlmErrorCode | ServerErrorCode, number>> = {
  input_invalid: 400,
  image_invalid: 400,
  image_unsupported: 415,
  image_too_large: 413,
  budget_unsatisfiable: 400,
  usage: 400,
  not_found: 404,
  payload_too_large: 413,
  queue_full: 429,
  timeout: 504,
  aborted: 499,
  plugin_failed: 500,
};

/** A JSON error response. */
export function errorResponse(
  code: VlmErrorCode | ServerErrorCode,
  message: string,
  fix?: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ error: { code, message, ...(fix ? { fix } : {}) } }, {
    status: STATUS[code] ?? 500,
    headers,
  });
}

/** The response for anything a handler threw. */
export function responseForError(error: unknown): Response {
  if (error instanceof VlmError) return errorResponse(error.code, error.message, error.fix);
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return errorResponse(
      "timeout",
      "the request took longer than the server's time limit",
      "ask for fewer tokens",
    );
  }
  if (error instanceof DOMException && error.name === "AbortError") {
    return errorResponse("aborted", "the request was aborted");
  }
  return errorResponse("internal", "internal error", "see the server log");
}
