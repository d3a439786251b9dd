/**
 * `fetch` with the two time limits a download needs: one until the server
 * answers (connecting, TLS, response headers) and one between body chunks.
 * A server that accepts and never answers, or stalls mid-file, becomes a
 * {@linkcode HubError} with reason `"timeout"` instead of a pull that hangs.
 *
 * @module
 */
import { HubError } from "./hub_error.ts";

/** Time limits of hub requests, ms. */
export interface HubTimeouts {
  /** Until the response headers arrive (default {@linkcode DEFAULT_CONNECT_TIMEOUT_MS}). */
  connectTimeoutMs?: number;
  /** Between two chunks of a response body (default {@linkcode DEFAULT_IDLE_TIMEOUT_MS}). */
  idleTimeoutMs?: number;
}

/** Default time until a hub request is answered: 30 s. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
/** Default time a response body may stay silent: 60 s. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

function timeout(url: string, what: string, ms: number, option: string): HubError {
  return new HubError("timeout", `${new URL(url).host} ${what} within ${ms / 1000} s (${url})`, {
    fix: `check the network and --hub-url; on a slow link raise ${option}`,
  });
}

/**
 * A `fetch` that carries `signal` into every request and enforces the time
 * limits; the returned response's body fails with the idle timeout's error
 * when the server goes silent.
 */
export function timedFetch(
  signal: AbortSignal | undefined,
  limits: HubTimeouts = {},
): typeof fetch {
  const connectMs = limits.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const idleMs = limits.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const stop = new AbortController();
    const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const connect = setTimeout(
      () => stop.abort(timeout(url, "did not answer", connectMs, "--connect-timeout-ms")),
      connectMs,
    );
    let response: Response;
    try {
      response = await fetch(input, { ...init, signal: combined });
    } catch (error) {
      throw stop.signal.aborted ? stop.signal.reason : error;
    } finally {
      clearTimeout(connect);
    }
    if (!response.body) return response;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () => stop.abort(timeout(url, "sent nothing", idleMs, "--idle-timeout-ms")),
        idleMs,
      );
    };
    const reader = response.body.getReader();
    arm();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { value, done } = await reader.read();
          if (done) {
            clearTimeout(idle);
            controller.close();
          } else {
            arm();
            controller.enqueue(value);
          }
        } catch (error) {
          clearTimeout(idle);
          controller.error(stop.signal.aborted ? stop.signal.reason : error);
        }
      },
      cancel(reason) {
        clearTimeout(idle);
        return reader.cancel(reason);
      },
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
