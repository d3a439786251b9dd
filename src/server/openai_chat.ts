/**
 * The OpenAI chat-completions wire format: the request schema (text and
 * `image_url` content parts), its translation to a generation request, and
 * the response and stream-chunk bodies.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { schemaIssues } from "../errors/issue.ts";
import { VlmError } from "../errors/vlm_error.ts";
import type {
  FinishReason,
  GenerateRequest,
  GenerationResult,
  LogitsProcessor,
} from "../runtime/generation_types.ts";
import type { ChatMessage, ContentPart } from "../text/messages.ts";
import { imageUrlBytes, type ImageUrlOptions } from "./image_urls.ts";

const ContentSchema = z.union([
  z.string(),
  z.array(z.discriminatedUnion("type", [
    z.object({ type: z.literal("text"), text: z.string() }),
    z.object({
      type: z.literal("image_url"),
      image_url: z.union([z.string(), z.object({ url: z.string() }).passthrough()]),
    }),
  ])),
]);

/** The accepted request body (unknown fields are ignored, as OpenAI clients send many). */
export const ChatCompletionRequest = z.object({
  model: z.string().optional(),
  messages: z.array(z.object({
    role: z.enum(["system", "user", "assistant"]),
    content: ContentSchema,
  })).min(1),
  max_tokens: z.number().int().positive().optional(),
  max_completion_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  seed: z.number().int().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(8)]).optional(),
  stream: z.boolean().optional(),
  logit_bias: z.record(z.string().regex(/^\d+$/), z.number().min(-100).max(100)).optional(),
}).passthrough();

/** A parsed chat-completions request. */
export type ChatCompletionBody = z.infer<typeof ChatCompletionRequest>;

/** Parses a JSON body; a bad one gets one error naming every invalid field. */
export function parseChatRequest(body: unknown): ChatCompletionBody {
  const parsed = ChatCompletionRequest.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = schemaIssues(
    parsed.error.issues,
    "send an OpenAI chat.completions body: {messages: [{role, content}], max_tokens, stream}",
  ).map((issue) => ({ ...issue, path: issue.path || "(body)" }));
  throw VlmError.fromIssues("input_invalid", "invalid request body", issues);
}

/** Translates the request: messages with image parts, their image bytes, and sampling settings. */
export async function toGenerateRequest(
  body: ChatCompletionBody,
  limits: { maxNewTokens: number; images: ImageUrlOptions },
): Promise<GenerateRequest> {
  const images: Uint8Array[] = [];
  const messages: ChatMessage[] = [];
  for (const message of body.messages) {
    if (typeof message.content === "string") {
      messages.push({ role: message.role, content: message.content });
      continue;
    }
    const parts: ContentPart[] = [];
    for (const part of message.content) {
      if (part.type === "text") parts.push({ type: "text", text: part.text });
      else {
        const url = typeof part.image_url === "string" ? part.image_url : part.image_url.url;
        images.push(await imageUrlBytes(url, limits.images));
        parts.push({ type: "image" });
      }
    }
    messages.push({ role: message.role, content: parts });
  }
  const requested = body.max_completion_tokens ?? body.max_tokens ?? limits.maxNewTokens;
  if (requested > limits.maxNewTokens) {
    throw new VlmError(
      "input_invalid",
      `max_tokens ${requested} exceeds this server's limit of ${limits.maxNewTokens}`,
      {
        fix: `ask for at most ${limits.maxNewTokens} tokens`,
      },
    );
  }
  return {
    messages,
    images,
    maxNewTokens: requested,
    temperature: body.temperature ?? 0,
    topP: body.top_p,
    seed: body.seed,
    stopStrings: body.stop === undefined
      ? undefined
      : typeof body.stop === "string"
      ? [body.stop]
      : body.stop,
  };
}

/**
 * OpenAI's `logit_bias`: a value added to the logit of each listed token id;
 * −100 effectively bans a token (as OpenAI documents), +100 forces it.
 */
export function logitBias(bias: Record<string, number>): LogitsProcessor {
  const entries = Object.entries(bias).map(([id, value]) => [Number(id), value] as const);
  return (logits) => {
    for (const [id, value] of entries) {
      if (id < logits.length) logits[id] = value <= -100 ? -Infinity : logits[id] + value;
    }
  };
}

/** OpenAI's finish reasons. */
export function finishReason(reason: FinishReason): "stop" | "length" {
  return reason === "max_tokens" ? "length" : "stop";
}

/** The non-streaming response body. */
export function completionBody(
  id: string,
  model: string,
  result: GenerationResult,
): Record<string, unknown> {
  return {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{
      index: 0,
      message: { role: "assistant", content: result.text },
      finish_reason: finishReason(result.finishReason),
    }],
    usage: {
      prompt_tokens: result.promptTokens,
      completion_tokens: result.tokenIds.length,
      total_tokens: result.promptTokens + result.tokenIds.length,
    },
  };
}

/** One streaming chunk body. */
export function chunkBody(
  id: string,
  model: string,
  delta: { role?: "assistant"; content?: string },
  finish: "stop" | "length" | null,
): Record<string, unknown> {
  return {
    id,
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}
