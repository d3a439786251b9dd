/**
 * Errors as HTTP responses. Everything a handler throws becomes a
 * {@linkcode VlmError} (aborts, time limits and unexpected failures
 * included), and its code picks the status from one table; the body is
 * `{error: {code, message, fix, issues}}`, the shape the CLI prints.
 *
 * @module
 */
import { VlmError, type VlmErrorCode } from "../errors/vlm_error.ts";

/** The HTTP status of every error code (exhaustive: a new code must choose one). */
export const HTTP_STATUS: Readonly<Record<VlmErrorCode, number>> = {
  input_invalid: 400,
  usage: 400,
  budget_unsatisfiable: 400,
  image_invalid: 400,
  image_too_large: 413,
  image_unsupported: 415,
  not_found: 404,
  payload_too_large: 413,
  queue_full: 429,
  aborted: 499,
  timeout: 504,
  image_timeout: 408,
  // The server's own model, spec or plugin is at fault, not the request.
  spec_invalid: 500,
  spec_not_found: 500,
  model_invalid: 500,
  model_mismatch: 500,
  model_too_large: 500,
  plugin_failed: 500,
  internal: 500,
  // A hub behind the server failed.
  hub_error: 502,
};

/** What anything a handler threw means, as a {@linkcode VlmError}. */
export function toVlmError(error: unknown): VlmError {
  if (error instanceof VlmError) return error;
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return new VlmError("timeout", "the request took longer than the server's time limit", {
      fix: "ask for fewer tokens",
      cause: error,
    });
  }
  if (error instanceof DOMException && error.name === "AbortError") {
    return new VlmError("aborted", "the request was aborted", { cause: error });
  }
  return new VlmError("internal", "internal error", { fix: "see the server log", cause: error });
}

/** The JSON response for `error`, with its code's status. */
export function errorResponse(error: VlmError, headers: Record<string, string> = {}): Response {
  return Response.json(error.toJSON(), { status: HTTP_STATUS[error.code], headers });
}

/** The response for anything a handler threw. */
export function responseForError(error: unknown): Response {
  return errorResponse(toVlmError(error));
}
