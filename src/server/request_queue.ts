/**
 * A bounded, memory-aware admission queue in front of a model. A request is
 * admitted when fewer than `maxActive` run and its estimated memory fits the
 * budget next to the estimates of those in flight; otherwise it waits, first
 * in first out (a large request at the head is not overtaken by smaller ones
 * behind it, so none starves). At most `maxWaiting` wait, each at most
 * `maxWaitMs`: past either the caller is told at once (the server answers
 * 503 with Retry-After) instead of piling up memory and latency. An abort
 * while waiting gives the place up.
 *
 * @module
 */

/** Limits of a {@linkcode RequestQueue}. */
export interface QueueLimits {
  /** Requests allowed to wait (≥ 1). */
  maxWaiting: number;
  /** Longest wait for a turn, in ms (> 0). */
  maxWaitMs: number;
  /** Requests admitted at once (≥ 1). */
  maxActive: number;
  /** Sum of the estimates of the requests admitted at once, in bytes (default: no limit). */
  budgetBytes?: number;
}

/** The outcome of {@linkcode RequestQueue.admit}. */
export type Admission =
  | { admitted: true; release: () => void }
  | { admitted: false; reason: "full" | "timeout" };

/** The in-flight memory estimate, for instrumentation and `/healthz`. */
export interface QueueMemory {
  /** Estimates of the requests admitted now, summed. */
  inFlightBytes: number;
  /** The largest `inFlightBytes` ever reached. */
  peakInFlightBytes: number;
  /** The budget (null: none). */
  budgetBytes: number | null;
  /** Requests that left the queue while waiting (aborted or their client went away). */
  leftWaiting: number;
  /** Requests refused because the queue was full or their wait ran out. */
  refused: number;
}

interface Waiter {
  cost: number;
  grant: () => void;
}

/** Admission control for one model. */
export class RequestQueue {
  /** The limits it was created with. */
  readonly limits: Readonly<QueueLimits>;
  #active = 0;
  #inFlight = 0;
  #peak = 0;
  #left = 0;
  #refused = 0;
  #waiting: Waiter[] = [];

  /** A queue with `limits` (validated by the server's options). */
  constructor(limits: QueueLimits) {
    this.limits = { ...limits };
  }

  /** Requests running and waiting. */
  get stats(): { active: number; waiting: number } {
    return { active: this.#active, waiting: this.#waiting.length };
  }

  /** The in-flight estimate and its peak. */
  get memory(): QueueMemory {
    return {
      inFlightBytes: this.#inFlight,
      peakInFlightBytes: this.#peak,
      budgetBytes: this.limits.budgetBytes ?? null,
      leftWaiting: this.#left,
      refused: this.#refused,
    };
  }

  /**
   * Waits for a turn for a request estimated at `costBytes` (capped at the
   * budget: the server refuses a request over it before it queues). Resolves
   * to a release function, or to why it was refused; rejects with the
   * signal's reason when `signal` aborts while waiting.
   */
  async admit(costBytes: number, signal?: AbortSignal): Promise<Admission> {
    signal?.throwIfAborted();
    const now = this.tryAdmit(costBytes);
    if (now) return now;
    const cost = this.#cost(costBytes);
    if (this.#waiting.length >= this.limits.maxWaiting) {
      this.#refused++;
      return { admitted: false, reason: "full" };
    }
    return await new Promise<Admission>((resolve, reject) => {
      const leave = () => {
        this.#waiting = this.#waiting.filter((w) => w !== waiter);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        // Someone behind this one may fit now.
        this.#drain();
      };
      const onAbort = () => {
        leave();
        this.#left++;
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        leave();
        this.#refused++;
        resolve({ admitted: false, reason: "timeout" });
      }, this.limits.maxWaitMs);
      const waiter: Waiter = {
        cost,
        grant: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(this.#start(cost));
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** Admits the request at once if nobody waits and it fits now; `undefined` otherwise. */
  tryAdmit(costBytes: number): Admission | undefined {
    const cost = this.#cost(costBytes);
    return this.#waiting.length === 0 && this.#fits(cost) ? this.#start(cost) : undefined;
  }

  #cost(costBytes: number): number {
    return Math.min(Math.max(0, costBytes), this.limits.budgetBytes ?? Infinity);
  }

  #fits(cost: number): boolean {
    if (this.#active >= this.limits.maxActive) return false;
    return this.#active === 0 || this.#inFlight + cost <= (this.limits.budgetBytes ?? Infinity);
  }

  #start(cost: number): Admission {
    this.#active++;
    this.#inFlight += cost;
    this.#peak = Math.max(this.#peak, this.#inFlight);
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.#active--;
        this.#inFlight -= cost;
        this.#drain();
      },
    };
  }

  /** Admits waiting requests from the head while they fit. */
  #drain(): void {
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0].cost)) {
      this.#waiting.shift()!.grant();
    }
  }
}
