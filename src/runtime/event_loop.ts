/**
 * Lets timers, I/O and abort signals run during long generation loops. The
 * wasm backend computes inside the promise chain, so a loop of session runs
 * never returns to the event loop on its own: a server could not accept
 * connections and a timeout signal could not fire until generation ended.
 *
 * @module
 */

/** How a host yields: `timer` (`setTimeout(0)`) or `message` (a MessageChannel message). */
export type YieldKind = "timer" | "message";

/** The parts of a global scope that decide how it yields. */
export interface YieldScope {
  /** Deno's namespace. */
  Deno?: unknown;
  /** Node's (and Bun's) process object. */
  process?: { versions?: { node?: string } };
  /** A browser page's document. */
  document?: unknown;
  /** Defined in browser workers. */
  WorkerGlobalScope?: unknown;
  /** The MessageChannel constructor. */
  MessageChannel?: unknown;
}

/**
 * `message` in browsers (pages and their workers), `timer` elsewhere. Browsers
 * clamp a `setTimeout` nested more than 5 deep to 4 ms, and a decode loop
 * chains its steps through promises, so every yield nests one deeper: about
 * 4 ms a step in Chromium against 0.2 ms for a message, while timers still
 * run between messages. Deno runs message-port tasks without servicing timers
 * and sockets in between, which defeats the purpose, so server runtimes keep
 * the timer (a nested `setTimeout(0)` costs about 2 ms in Deno).
 */
export function yieldKind(scope: YieldScope): YieldKind {
  if (scope.Deno !== undefined || scope.process?.versions?.node !== undefined) return "timer";
  const browser = scope.document !== undefined || scope.WorkerGlobalScope !== undefined;
  return browser && typeof scope.MessageChannel === "function" ? "message" : "timer";
}

const KIND = yieldKind(globalThis as YieldScope);

/** Resolves once a message posted now has been delivered (a task later, unclamped). */
function messageYield(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * Resolves after pending macrotasks (timers, I/O callbacks) have had a turn,
 * the host's cheapest way that lets them run ({@linkcode yieldKind}).
 */
export function yieldToEventLoop(kind: YieldKind = KIND): Promise<void> {
  if (kind === "message") return messageYield();
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Yields at most every `intervalMs`, so the cost stays small for fast steps. */
export class EventLoopPacer {
  #last = performance.now();

  /**
   * Creates a pacer that yields when `intervalMs` have passed since the last
   * yield: 25 ms keeps a server responsive at under 10% cost to decoding.
   * `kind` is how to yield (default: the host's, {@linkcode yieldKind}).
   */
  constructor(readonly intervalMs = 25, readonly kind: YieldKind = KIND) {}

  /** Yields if the interval has elapsed. */
  async maybeYield(): Promise<void> {
    const now = performance.now();
    if (now - this.#last < this.intervalMs) return;
    await yieldToEventLoop(this.kind);
    this.#last = performance.now();
  }
}
