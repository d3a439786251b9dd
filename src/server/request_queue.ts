/**
 * A bounded admission queue in front of a model: one request runs at a time
 * (the model serializes them anyway) and at most `maxWaiting` wait; past that
 * the server answers 429 at once instead of piling up memory and latency.
 *
 * @module
 */

/** Admission control for one model. */
export class RequestQueue {
  #active = 0;
  #waiting: (() => void)[] = [];

  /** `maxWaiting` requests may wait behind the running one. */
  constructor(readonly maxWaiting: number) {}

  /** Requests running and waiting. */
  get stats(): { active: number; waiting: number } {
    return { active: this.#active, waiting: this.#waiting.length };
  }

  /**
   * Waits for a turn. Returns a release function, or `undefined` when the
   * queue is full. An abort while waiting gives the place up.
   */
  async admit(signal?: AbortSignal): Promise<(() => void) | undefined> {
    if (this.#active === 0) {
      this.#active = 1;
      return this.#releaser();
    }
    if (this.#waiting.length >= this.maxWaiting) return undefined;
    await new Promise<void>((resolve, reject) => {
      const turn = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        this.#waiting = this.#waiting.filter((t) => t !== turn);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(turn);
    });
    return this.#releaser();
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active = 0;
    };
  }
}
