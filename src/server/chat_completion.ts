/**
 * Running one chat-completions request: its `n` choices one after another
 * (the feature cache and prefix reuse share the image features and the
 * prompt between them), answered as one JSON body or as SSE chunks.
 *
 * A stream's status is decided once the first choice has produced its
 * first token: every failure of the request itself (an undecodable image, a
 * prompt that does not fit, a time limit passed while queued) is still an
 * error response with its status, never a 200 followed by an error event. A
 * streaming client that goes away cancels the response body, and that aborts
 * the generation. The handler never reads `request.signal` (Deno aborts it on
 * successful responses too, and warns about relying on it), so a
 * non-streaming request runs until its end or its time limit.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { decodeImage } from "../image/decode.ts";
import type { GenerationResult, TokenLogprob } from "../runtime/generation_types.ts";
import type { GenerationStream } from "../runtime/generation_stream.ts";
import type { VlmModel } from "../runtime/model.ts";
import { AnswerStart, trimAnswerStart } from "../text/answer_start.ts";
import { errorBody, toVlmError } from "./http_error.ts";
import { atField, type ChatPlan } from "./openai_chat.ts";
import { imagePlanField } from "./image_plan_field.ts";
import {
  chunkBody,
  completionBody,
  completionId,
  type FinishedChoice,
  finishReason,
  logprobsContent,
  usageOf,
} from "./openai_response.ts";

/** What a request runs against. */
export interface ChatContext {
  /** The served model. */
  model: VlmModel;
  /** Its id in responses. */
  name: string;
  /** Aborts when the request's time limit passes. */
  timeout: AbortSignal;
  /** A turn in the queue: its release, or the response refusing it (503). */
  admit(signal: AbortSignal): Promise<(() => void) | Response>;
  /** Counts a generation stopped because its client went away. */
  onDisconnect(): void;
}

interface RunningChoice {
  stream: GenerationStream;
  /** Every token's logprobs so far, when asked for. */
  logprobs: TokenLogprob[];
  /** Settles at the first token or at the end, whichever is first; rejects on failure. */
  started: Promise<void>;
}

function startChoice(
  model: VlmModel,
  plan: ChatPlan,
  index: number,
  signal: AbortSignal,
): RunningChoice {
  let first!: () => void;
  const firstToken = new Promise<void>((resolve) => (first = resolve));
  const logprobs: TokenLogprob[] = [];
  const stream = model.stream({
    ...plan.request,
    seed: (plan.seed + index) >>> 0,
    logprobs: plan.logprobs,
    signal,
    onToken: (token) => {
      if (token.logprob) logprobs.push(token.logprob);
      first();
    },
  });
  return { stream, logprobs, started: Promise.race([firstToken, stream.result.then(() => {})]) };
}

/** Names of SDK options in a model error, as the request fields that set them. */
function inRequestTerms(error: unknown, plan: ChatPlan): unknown {
  if (!(error instanceof VlmError)) return error;
  if (error.code === "budget_unsatisfiable") {
    const field = plan.limitField ?? "max_tokens";
    const say = (text: string) =>
      text.replaceAll("maxNewTokens", plan.limitField ?? "the default max_tokens")
        .replaceAll("pass split: false", 'send image_url.detail "low"');
    const path = plan.limitField ?? "messages";
    return new VlmError("budget_unsatisfiable", say(error.message), {
      fix: say(error.fix ?? `lower ${field}`),
      cause: error,
      issues: [{ path, message: say(error.message), fix: say(error.fix ?? "") }],
    });
  }
  if (error.code.startsWith("image_") && plan.imagePaths.length > 0) {
    // Which image failed: the only one, or the first that fails on its own.
    const images = plan.request.images as Uint8Array[];
    const index = images.length === 1 ? 0 : images.findIndex((bytes) => {
      try {
        decodeImage(bytes);
        return false;
      } catch {
        return true;
      }
    });
    if (index >= 0) return atField(error, plan.imagePaths[index]);
  }
  return error;
}

const encoder = new TextEncoder();
const sse = (data: unknown) =>
  encoder.encode(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);

/** Answers one parsed request. */
export async function chatCompletion(
  context: ChatContext,
  plan: ChatPlan,
  streaming: boolean,
): Promise<Response> {
  const { model, name } = context;
  const disconnect = new AbortController();
  const signal = AbortSignal.any([disconnect.signal, context.timeout]);
  const release = await context.admit(signal);
  if (release instanceof Response) return release;
  let first: RunningChoice;
  try {
    first = startChoice(model, plan, 0, signal);
    await first.started;
    // A time limit passed before the first token: nothing was answered yet.
    if (signal.aborted) throw signal.reason;
  } catch (error) {
    release();
    throw inRequestTerms(error, plan);
  }
  const choice = (index: number) => index === 0 ? first : startChoice(model, plan, index, signal);
  const tokenText = (id: number) => model.tokenizer.decode([id], false);
  const stopped = (result: GenerationResult) => {
    if (result.finishReason !== "aborted") return;
    throw signal.reason ?? new DOMException("aborted", "AbortError");
  };
  const finish = () => {
    release();
    if (disconnect.signal.aborted) context.onDisconnect();
  };
  const cancel = (reason: unknown) =>
    disconnect.abort(reason ?? new DOMException("the client went away", "AbortError"));

  const id = completionId();
  if (!streaming) {
    // The whole answer decides the status (a time limit mid-answer is still a 504), so a
    // non-streaming request runs to its end or its time limit even if the client leaves.
    try {
      const finished: FinishedChoice[] = [];
      for (let i = 0; i < plan.n; i++) {
        const running = choice(i);
        const result = await running.stream.result;
        stopped(result);
        finished.push({
          result,
          text: trimAnswerStart(result.text),
          logprobs: plan.logprobs === undefined
            ? undefined
            : logprobsContent(running.logprobs, tokenText),
        });
      }
      return Response.json(completionBody(id, name, finished));
    } catch (error) {
      throw inRequestTerms(error, plan);
    } finally {
      finish();
    }
  }

  const created = Math.floor(Date.now() / 1000);
  const usage = plan.includeUsage ? null : undefined;
  const events = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (data: unknown) => {
        if (!disconnect.signal.aborted) controller.enqueue(sse(data));
      };
      try {
        const results: GenerationResult[] = [];
        for (let index = 0; index < plan.n; index++) {
          const running = choice(index);
          send(chunkBody(id, name, created, [{
            index,
            delta: { role: "assistant", content: "" },
            finish: null,
          }], usage));
          const answer = new AnswerStart();
          let reported = 0;
          const logprobs = () => {
            if (plan.logprobs === undefined) return undefined;
            const fresh = running.logprobs.slice(reported);
            reported += fresh.length;
            return logprobsContent(fresh, tokenText);
          };
          for await (const delta of running.stream) {
            const content = answer.push(delta);
            if (!content) continue;
            send(chunkBody(id, name, created, [{
              index,
              delta: { content },
              logprobs: logprobs(),
              finish: null,
            }], usage));
          }
          const result = await running.stream.result;
          stopped(result);
          if (reported < running.logprobs.length) {
            // Tokens that added no visible text still have logprobs to report.
            send(chunkBody(id, name, created, [{
              index,
              delta: { content: "" },
              logprobs: logprobs(),
              finish: null,
            }], usage));
          }
          send({
            ...chunkBody(id, name, created, [{
              index,
              delta: {},
              finish: finishReason(result.finishReason),
            }], usage),
            ...imagePlanField(result.imagePlan),
          });
          results.push(result);
        }
        if (plan.includeUsage) send(chunkBody(id, name, created, [], usageOf(results)));
        send("[DONE]");
        if (!disconnect.signal.aborted) controller.close();
      } catch (error) {
        if (!disconnect.signal.aborted) {
          send(errorBody(toVlmError(inRequestTerms(error, plan))));
          controller.close();
        }
      } finally {
        finish();
      }
    },
    cancel,
  });
  return new Response(events, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    },
  });
}
