/**
 * The answer to a request the queue turned away: 503 with Retry-After and a
 * typed body (`queue_full` when too many already wait, `queue_timeout` when
 * its wait ran out), so a client — the `openai` client included — backs off
 * and retries instead of treating the request as wrong.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { errorResponse } from "./http_error.ts";
import type { QueueLimits } from "./request_queue.ts";

/** Seconds a refused client is asked to wait before retrying. */
export const RETRY_AFTER_SECONDS = 1;

/** The 503 for a request refused by the queue for `reason`. */
export function busyResponse(reason: "full" | "timeout", limits: QueueLimits): Response {
  const error = reason === "full"
    ? new VlmError(
      "queue_full",
      `the server is busy (${limits.maxWaiting} requests already waiting)`,
      { fix: `retry after ${RETRY_AFTER_SECONDS} s` },
    )
    : new VlmError(
      "queue_timeout",
      `the request waited ${limits.maxWaitMs} ms for a turn without getting one`,
      {
        fix: `retry after ${RETRY_AFTER_SECONDS} s, or send a smaller request ` +
          '(image_url.detail "low", fewer max_tokens): it fits in sooner next to the others',
      },
    );
  return errorResponse(error, { "retry-after": String(RETRY_AFTER_SECONDS) });
}
