/**
 * Lets timers, I/O and abort signals run during long generation loops. The
 * wasm backend computes inside the promise chain, so a loop of session runs
 * never returns to the event loop on its own: a server could not accept
 * connections and a timeout signal could not fire until generation ended.
 *
 * @module
 */

/**
 * Resolves after pending macrotasks (timers, I/O callbacks) have had a turn.
 * A timer, not a MessageChannel message: Deno runs message-port tasks without
 * servicing timers and sockets in between, which defeats the purpose. A
 * nested `setTimeout(0)` costs about 2 ms, hence the pacing below.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Yields at most every `intervalMs`, so the cost stays small for fast steps. */
export class EventLoopPacer {
  #last = performance.now();

  /**
   * Creates a pacer that yields when `intervalMs` have passed since the last
   * yield: 25 ms keeps a server responsive at under 10% cost to decoding.
   */
  constructor(readonly intervalMs = 25) {}

  /** Yields if the interval has elapsed. */
  async maybeYield(): Promise<void> {
    const now = performance.now();
    if (now - this.#last < this.intervalMs) return;
    await yieldToEventLoop();
    this.#last = performance.now();
  }
}
