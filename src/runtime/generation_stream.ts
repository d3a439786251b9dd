/**
 * The streaming view of one generation: a `ReadableStream<string>` of text
 * deltas (pipe it into a `Response`), an async iterable of tokens, and a
 * promise of the final result. Cancelling the text stream aborts generation.
 *
 * An aborted generation keeps what it produced: `result` resolves with the
 * text streamed so far and `finishReason: "aborted"`, while the text stream
 * and the token iterator reject with the abort reason (a consumer reading them
 * learns of the abort where it reads).
 *
 * @module
 */
import type { GenerationResult, StreamedToken } from "./generation_types.ts";

/** What the generation loop reports: a token (id) or trailing text (id null). */
export interface StreamEvent {
  /** Token id, or null for text flushed at the end. */
  id: number | null;
  /** Text added. */
  text: string;
}

/** Text deltas as a stream, plus tokens and the final result. */
export class GenerationStream extends ReadableStream<string> {
  /**
   * Resolves with the full result when generation ends; after an abort, with
   * the text streamed so far and `finishReason: "aborted"`. Rejects on errors.
   */
  readonly result: Promise<GenerationResult>;
  readonly #tokens: StreamedToken[] = [];
  #wake: (() => void) | undefined;
  #done = false;
  /** Why generation was aborted, once it ended that way. */
  #abort: { reason: unknown } | undefined;

  /**
   * Starts `run`, which calls `emit` for every event and must stop when the
   * signal it is given aborts (the caller's `signal`, or a cancelled stream),
   * resolving with a result whose `finishReason` is `"aborted"`.
   */
  constructor(
    run: (emit: (event: StreamEvent) => void, signal: AbortSignal) => Promise<GenerationResult>,
    signal?: AbortSignal,
  ) {
    let controller!: ReadableStreamDefaultController<string>;
    let cancelled = false;
    const stop = new AbortController();
    super({
      start(c) {
        controller = c;
      },
      cancel(reason) {
        cancelled = true;
        stop.abort(reason ?? new DOMException("the stream was cancelled", "AbortError"));
      },
    });
    const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const emit = (event: StreamEvent) => {
      if (event.text && !cancelled) controller.enqueue(event.text);
      if (event.id !== null) this.#tokens.push({ id: event.id, text: event.text });
      this.#notify();
    };
    this.result = run(emit, combined).then(
      (result) => {
        if (result.finishReason === "aborted") {
          const reason = combined.reason ?? new DOMException("aborted", "AbortError");
          this.#abort = { reason };
          if (!cancelled) controller.error(reason);
        } else if (!cancelled) controller.close();
        this.#finish();
        return result;
      },
      (error) => {
        if (!cancelled) controller.error(error);
        this.#finish();
        throw error;
      },
    );
    // The result promise is also consumed through the streams; avoid an unhandled rejection.
    this.result.catch(() => {});
  }

  /**
   * Each generated token with the text it added, as it is produced; after
   * the last token of an aborted generation it throws the abort reason.
   */
  async *tokens(): AsyncGenerator<StreamedToken> {
    let next = 0;
    for (;;) {
      while (next < this.#tokens.length) yield this.#tokens[next++];
      if (this.#done) {
        await this.result;
        if (this.#abort) throw this.#abort.reason;
        return;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #finish(): void {
    this.#done = true;
    this.#notify();
  }
}
