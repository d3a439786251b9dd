/**
 * Errors as HTTP responses. Everything a handler throws becomes a
 * {@linkcode VlmError} (aborts, time limits and unexpected failures
 * included), and its code picks the status from one table. The body is
 * OpenAI's error shape `{error: {message, type, param, code}}` (what OpenAI
 * clients parse), plus vlmkit's `fix` and `issues`: `param` is the request
 * field the first issue names, or null.
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
  // The server is busy: the same request may succeed later (Retry-After).
  queue_full: 503,
  queue_timeout: 503,
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

/** OpenAI's error `type` for a status: the request's fault, the rate limit, or the server's. */
export function errorType(status: number): string {
  if (status === 429) return "rate_limit_error";
  return status < 500 ? "invalid_request_error" : "server_error";
}

/** The response body of `error`: OpenAI's fields, then vlmkit's `fix` and `issues`. */
export function errorBody(error: VlmError): Record<string, unknown> {
  const { error: json } = error.toJSON();
  return {
    error: {
      message: json.message,
      type: errorType(HTTP_STATUS[error.code]),
      param: error.issues[0]?.path || null,
      code: json.code,
      ...(json.fix ? { fix: json.fix } : {}),
      ...(json.issues ? { issues: json.issues } : {}),
    },
  };
}

/** The JSON response for `error`, with its code's status. */
export function errorResponse(error: VlmError, headers: Record<string, string> = {}): Response {
  return Response.json(errorBody(error), { status: HTTP_STATUS[error.code], headers });
}

/** The response for anything a handler threw. */
export function responseForError(error: unknown): Response {
  return errorResponse(toVlmError(error));
}
