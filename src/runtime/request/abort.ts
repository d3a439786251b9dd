/**
 * The cancellation check between the steps of a request.
 *
 * @module
 */

/** Throws the signal's reason (an `AbortError` by default) once it has aborted. */
export function abortIfNeeded(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException("aborted", "AbortError");
}
