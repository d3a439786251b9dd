/**
 * The OpenAI chat-completions response bodies: the whole completion, the
 * stream chunks, usage and per-token logprobs, shaped as the `openai`
 * client's `ChatCompletion` and `ChatCompletionChunk` types declare them.
 *
 * @module
 */
import { imagePlanField } from "./image_plan_field.ts";
import type { FinishReason, GenerationResult, TokenLogprob } from "../runtime/generation_types.ts";

/** OpenAI's finish reasons. */
export function finishReason(reason: FinishReason): "stop" | "length" {
  return reason === "max_tokens" ? "length" : "stop";
}

/** A response id unique across processes: `chatcmpl-` and 32 random hex digits. */
export function completionId(): string {
  return `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Token counts of a response. */
export interface Usage {
  /** Prompt tokens (image tokens included), counted once for all choices. */
  prompt_tokens: number;
  /** Generated tokens of every choice. */
  completion_tokens: number;
  /** Their sum. */
  total_tokens: number;
}

/** The usage of choices generated from one prompt. */
export function usageOf(results: readonly GenerationResult[]): Usage {
  const prompt = results[0]?.promptTokens ?? 0;
  const completion = results.reduce((n, r) => n + r.tokenIds.length, 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
}

/** One token as OpenAI reports it: its text, that text's UTF-8 bytes, and its logprob. */
interface LogprobEntry {
  token: string;
  bytes: number[];
  logprob: number;
}

const encoder = new TextEncoder();

/** OpenAI's `logprobs.content` for `tokens`; `text` spells one token id. */
export function logprobsContent(
  tokens: readonly TokenLogprob[],
  text: (id: number) => string,
): (LogprobEntry & { top_logprobs: LogprobEntry[] })[] {
  const entry = (id: number, logprob: number): LogprobEntry => {
    const token = text(id);
    return { token, bytes: [...encoder.encode(token)], logprob };
  };
  return tokens.map((t) => ({
    ...entry(t.id, t.logprob),
    top_logprobs: t.top.map((alt) => entry(alt.id, alt.logprob)),
  }));
}

/** One finished choice of a completion. */
export interface FinishedChoice {
  /** The generation. */
  result: GenerationResult;
  /** Its answer text as sent. */
  text: string;
  /** Its logprobs as sent, when asked for. */
  logprobs: ReturnType<typeof logprobsContent> | undefined;
}

/** The non-streaming response body. */
export function completionBody(
  id: string,
  model: string,
  choices: readonly FinishedChoice[],
): Record<string, unknown> {
  return {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: choices.map((choice, index) => ({
      index,
      message: { role: "assistant", content: choice.text, refusal: null },
      logprobs: choice.logprobs ? { content: choice.logprobs, refusal: null } : null,
      finish_reason: finishReason(choice.result.finishReason),
    })),
    usage: usageOf(choices.map((c) => c.result)),
    ...imagePlanField(choices[0]?.result.imagePlan),
  };
}

/** What one stream chunk carries for one choice. */
export interface ChunkChoice {
  /** Which choice. */
  index: number;
  /** The role (first chunk) or new text. */
  delta: { role?: "assistant"; content?: string };
  /** Logprobs of the tokens behind this text, when asked for. */
  logprobs?: ReturnType<typeof logprobsContent>;
  /** Set on a choice's last chunk. */
  finish: "stop" | "length" | null;
}

/** One streaming chunk body; `usage` is null on every chunk but the last when it was asked for. */
export function chunkBody(
  id: string,
  model: string,
  created: number,
  choices: readonly ChunkChoice[],
  usage?: Usage | null,
): Record<string, unknown> {
  return {
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices: choices.map((c) => ({
      index: c.index,
      delta: c.delta,
      logprobs: c.logprobs ? { content: c.logprobs, refusal: null } : null,
      finish_reason: c.finish,
    })),
    ...(usage === undefined ? {} : { usage }),
  };
}
