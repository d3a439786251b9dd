/**
 * The OpenAI chat-completions request: its schema, the parameters this
 * server refuses (by name, with why), and its translation to a generation
 * request. Every field of OpenAI's `ChatCompletionCreateParams` either works
 * or is refused with 400 naming it; fields OpenAI does not define are refused
 * too, so a client never gets a silent no-op. `null` means "unset", as in
 * OpenAI's API.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import type { VlmIssue } from "../errors/issue.ts";
import { VlmError } from "../errors/vlm_error.ts";
import type { GenerateRequest, LogitsProcessor } from "../runtime/generation_types.ts";
import type { ChatMessage, ContentPart } from "../text/messages.ts";
import { imageUrlBytes, type ImageUrlOptions } from "./image_urls.ts";
import type { ResponseFormat } from "../structured/format.ts";
import { responseFormatIssues } from "../structured/response_format.ts";
import { logitBias, penalties } from "./openai_penalties.ts";

const opt = <T extends z.ZodType>(schema: T) => schema.nullish();

const TextPart = z.strictObject({ type: z.literal("text"), text: z.string() });
const ImagePart = z.strictObject({
  type: z.literal("image_url"),
  image_url: z.union([
    z.string(),
    z.strictObject({ url: z.string(), detail: z.enum(["auto", "low", "high"]).optional() }),
  ]),
});
const RefusalPart = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });

const Message = z.discriminatedUnion("role", [
  z.strictObject({
    role: z.enum(["system", "developer"]),
    content: z.union([z.string(), z.array(TextPart)]),
  }),
  z.strictObject({
    role: z.literal("user"),
    content: z.union([z.string(), z.array(z.discriminatedUnion("type", [TextPart, ImagePart]))]),
  }),
  z.strictObject({
    role: z.literal("assistant"),
    content: opt(
      z.union([z.string(), z.array(z.discriminatedUnion("type", [TextPart, RefusalPart]))]),
    ),
    refusal: opt(z.string()),
  }),
]);

/** The fields this server implements (see the module doc). */
export const ChatCompletionRequest = z.strictObject({
  model: opt(z.string()),
  messages: z.array(Message).min(1),
  max_tokens: opt(z.number().int().positive()),
  max_completion_tokens: opt(z.number().int().positive()),
  temperature: opt(z.number().min(0).max(2)),
  top_p: opt(z.number().gt(0).max(1)),
  n: opt(z.number().int().min(1).max(8)),
  seed: opt(z.number().int()),
  stop: opt(z.union([z.string(), z.array(z.string()).max(4)])),
  stream: opt(z.boolean()),
  stream_options: opt(z.strictObject({
    include_usage: z.boolean().optional(),
    include_obfuscation: z.literal(false).optional(),
  })),
  logit_bias: opt(z.record(z.string().regex(/^\d+$/), z.number().min(-100).max(100))),
  logprobs: opt(z.boolean()),
  top_logprobs: opt(z.number().int().min(0).max(20)),
  presence_penalty: opt(z.number().min(-2).max(2)),
  frequency_penalty: opt(z.number().min(-2).max(2)),
  // text, json_object, or json_schema (checked against what the constraint supports below).
  response_format: opt(z.object({ type: z.string() }).passthrough()),
  // No tool is ever called: only "none" (or an empty list) is honest.
  tools: opt(z.array(z.unknown()).max(0)),
  tool_choice: opt(z.literal("none")),
  parallel_tool_calls: opt(z.boolean()),
  modalities: opt(z.array(z.literal("text"))),
  service_tier: opt(z.enum(["auto", "default"])),
  store: opt(z.literal(false)),
  // Identifiers for the caller's own bookkeeping; they cannot change an answer.
  user: opt(z.string()),
  safety_identifier: opt(z.string()),
  prompt_cache_key: opt(z.string()),
});

/** A parsed chat-completions request. */
export type ChatCompletionBody = z.infer<typeof ChatCompletionRequest>;

/** OpenAI parameters this server does not implement, and why: refused when set (not null). */
const REFUSED: Record<string, string> = {
  audio: "audio output is not supported",
  functions: "function calling is not supported",
  function_call: "function calling is not supported",
  metadata: "stored completions are not supported",
  moderation: "moderation is not supported",
  prediction: "predicted outputs are not supported",
  prompt_cache_options: "prompt caching is automatic here (prefix reuse) and has no options",
  prompt_cache_retention: "prompt caching is automatic here (prefix reuse) and has no options",
  reasoning_effort: "the served model does not reason",
  verbosity: "the served model has no verbosity control",
  web_search_options: "web search is not supported",
};

/** Why a value of an implemented field is refused, when zod's message would not say. */
function valueMessage(path: string, fallback: string): string {
  if (path === "tools") return "function calling is not supported: send no tools";
  if (path === "tool_choice") return 'function calling is not supported: only "none" is accepted';
  if (path === "modalities") return 'only ["text"] output is supported';
  if (path === "store") return "stored completions are not supported";
  if (path === "service_tier") return 'only "auto" or "default"';
  if (path === "stream_options.include_obfuscation") return "obfuscation is not supported";
  return fallback;
}

/** A zod path as OpenAI names request fields: `messages[1].content[0].image_url`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) =>
    typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`
  ).join("");
}

const FIX = "see https://platform.openai.com/docs/api-reference/chat/create for the field; " +
  "this server lists what it supports in its error messages";

/** One issue per offending field, unknown keys named one by one. */
function schemaIssues(error: z.ZodError): VlmIssue[] {
  return error.issues.flatMap((issue): VlmIssue[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => {
        const path = fieldPath([...issue.path, key]);
        return {
          path,
          message: REFUSED[key] && issue.path.length === 0
            ? `${REFUSED[key]}`
            : "is not a parameter this server supports",
          fix: `remove ${path} from the request`,
        };
      });
    }
    const path = fieldPath(issue.path);
    return [{ path: path || "(body)", message: valueMessage(path, issue.message), fix: FIX }];
  });
}

/**
 * OpenAI's `response_format` as the library's `responseFormat` (no schema
 * walk: that is {@linkcode crossFieldIssues}' job), or the issue that refuses
 * its shape (an unknown type, a missing schema).
 */
function responseFormatOf(
  body: ChatCompletionBody,
): { format?: ResponseFormat; issue?: VlmIssue } {
  const given = body.response_format as Record<string, unknown> | undefined;
  if (given === undefined || given.type === "text") return {};
  if (given.type === "json_object") return { format: { type: "json_object" } };
  if (given.type !== "json_schema") {
    return {
      issue: {
        path: "response_format.type",
        message: `must be "text", "json_object" or "json_schema", got ${
          JSON.stringify(given.type)
        }`,
        fix: 'send {type: "json_schema", json_schema: {name, schema}} or {type: "json_object"}',
      },
    };
  }
  const spec = given.json_schema as Record<string, unknown> | undefined;
  if (typeof spec !== "object" || spec === null || typeof spec.schema !== "object") {
    return {
      issue: {
        path: "response_format.json_schema.schema",
        message: "a json_schema response format needs json_schema.schema (an object)",
        fix: 'send {type: "json_schema", json_schema: {name: "answer", schema: {...}}}',
      },
    };
  }
  return {
    format: {
      type: "json_schema",
      schema: spec.schema,
      ...(typeof spec.strict === "boolean" ? { strict: spec.strict } : {}),
      ...(typeof spec.name === "string" ? { name: spec.name } : {}),
    } as ResponseFormat,
  };
}

/** Refusals that depend on several fields or on a value zod accepted. */
function crossFieldIssues(body: ChatCompletionBody): VlmIssue[] {
  const issues: VlmIssue[] = [];
  // The schema is walked once, here: a keyword the constraint cannot enforce is refused by name.
  const { format, issue } = responseFormatOf(body);
  if (issue) issues.push(issue);
  else if (format) issues.push(...responseFormatIssues(format, "response_format.json_schema"));
  if (body.top_logprobs != null && body.logprobs !== true) {
    issues.push({
      path: "top_logprobs",
      message: "needs logprobs: true",
      fix: "send logprobs: true with top_logprobs",
    });
  }
  if (body.stream_options != null && body.stream !== true) {
    issues.push({
      path: "stream_options",
      message: "is only allowed with stream: true",
      fix: "send stream: true or drop stream_options",
    });
  }
  if (body.max_tokens != null && body.max_completion_tokens != null) {
    issues.push({
      path: "max_completion_tokens",
      message: "give max_tokens or max_completion_tokens, not both",
      fix: "send only max_completion_tokens",
    });
  }
  return issues;
}

/** Parses a JSON body; a bad one gets one error naming every refused or invalid field. */
export function parseChatRequest(body: unknown): ChatCompletionBody {
  const parsed = ChatCompletionRequest.safeParse(body);
  const issues = parsed.success ? crossFieldIssues(parsed.data) : schemaIssues(parsed.error);
  if (issues.length > 0) throw VlmError.fromIssues("input_invalid", "invalid request body", issues);
  return parsed.data!;
}

/** What a request asks the server to do, besides generating. */
export interface ChatPlan {
  /** The generation request (without signal, seed and per-choice settings). */
  request: GenerateRequest;
  /** The request field each image came from, in image order. */
  imagePaths: string[];
  /** The field that limited the tokens (`max_tokens`, `max_completion_tokens`), if one did. */
  limitField: "max_tokens" | "max_completion_tokens" | undefined;
  /** Choices to generate. */
  n: number;
  /** Seed of the first choice; choice i uses seed + i. */
  seed: number;
  /** Alternatives per token to report, when logprobs were asked for. */
  logprobs: number | undefined;
  /** Send a usage chunk at the end of a stream. */
  includeUsage: boolean;
}

/**
 * The `detail` of every image as one image budget: `low` unsplit, `high` the
 * model's full split, `auto` the server's budget (`autoMaxTiles`, else the
 * backend's default: at most 5 tiles an image on wasm).
 */
function imageBudget(
  details: { path: string; detail: string }[],
  autoMaxTiles: number | undefined,
): Pick<GenerateRequest, "split" | "maxTiles"> {
  const distinct = [...new Set(details.map((d) => d.detail))];
  if (distinct.length > 1) {
    const second = details.find((d) => d.detail !== details[0].detail)!;
    throw VlmError.fromIssues("input_invalid", "invalid request body", [{
      path: `${second.path}.detail`,
      message: `is "${second.detail}" but an earlier image's is "${details[0].detail}"; ` +
        "one request tiles all its images the same way",
      fix: "send the same detail for every image of a request",
    }]);
  }
  if (distinct[0] === "low") return { split: false };
  if (distinct[0] === "high") return { split: true, maxTiles: Infinity };
  return autoMaxTiles === undefined ? {} : { maxTiles: autoMaxTiles };
}

/** Translates the request: messages with image parts, their image bytes, and sampling settings. */
export async function toGenerateRequest(
  body: ChatCompletionBody,
  limits: {
    maxNewTokens: number;
    images: ImageUrlOptions;
    /** Tiles per image for `detail: "auto"` (default: the model's budget). */
    maxTiles?: number;
  },
): Promise<ChatPlan> {
  const images: Uint8Array[] = [];
  const imagePaths: string[] = [];
  const details: { path: string; detail: string }[] = [];
  const messages: ChatMessage[] = [];
  for (const [m, message] of body.messages.entries()) {
    // OpenAI's developer messages are the system messages of newer models.
    const role = message.role === "developer" ? "system" : message.role;
    const content = message.content ?? "";
    if (typeof content === "string") {
      messages.push({ role, content });
      continue;
    }
    const parts: ContentPart[] = [];
    for (const [c, part] of content.entries()) {
      if (part.type === "text") parts.push({ type: "text", text: part.text });
      else if (part.type === "refusal") parts.push({ type: "text", text: part.refusal });
      else {
        const path = `messages[${m}].content[${c}].image_url`;
        const url = typeof part.image_url === "string" ? part.image_url : part.image_url.url;
        const detail = typeof part.image_url === "string" ? "auto" : part.image_url.detail;
        details.push({ path, detail: detail ?? "auto" });
        try {
          images.push(await imageUrlBytes(url, limits.images));
        } catch (error) {
          throw atField(error, path);
        }
        imagePaths.push(path);
        parts.push({ type: "image" });
      }
    }
    messages.push({ role, content: parts });
  }
  const limitField = body.max_completion_tokens != null
    ? "max_completion_tokens"
    : body.max_tokens != null
    ? "max_tokens"
    : undefined;
  const requested = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  if (requested !== undefined && requested > limits.maxNewTokens) {
    throw VlmError.fromIssues("input_invalid", "invalid request body", [{
      path: limitField!,
      message: `${requested} exceeds this server's limit of ${limits.maxNewTokens}`,
      fix: `ask for at most ${limits.maxNewTokens} tokens`,
    }]);
  }
  const processors: LogitsProcessor[] = [];
  if (body.logit_bias) processors.push(logitBias(body.logit_bias));
  const penalty = penalties(body.presence_penalty ?? 0, body.frequency_penalty ?? 0);
  if (penalty) processors.push(penalty);
  const stop = body.stop ?? undefined;
  return {
    request: {
      messages,
      images,
      // Without a limit the answer may use the room the prompt leaves in the context.
      maxNewTokens: requested ?? limits.maxNewTokens,
      fitContext: requested === undefined,
      ...imageBudget(details, limits.maxTiles),
      // Greedy unless asked otherwise (OpenAI's default is 1; small models answer better greedy).
      temperature: body.temperature ?? 0,
      topP: body.top_p ?? undefined,
      stopStrings: stop === undefined ? undefined : typeof stop === "string" ? [stop] : stop,
      logitsProcessors: processors.length > 0 ? processors : undefined,
      // On the request (not as a processor), so the fitted limit steers the document to close.
      responseFormat: responseFormatOf(body).format,
    },
    imagePaths,
    limitField,
    n: body.n ?? 1,
    // Without a seed every request draws afresh, as OpenAI does; with one it repeats exactly.
    seed: body.seed ?? crypto.getRandomValues(new Uint32Array(1))[0],
    logprobs: body.logprobs ? body.top_logprobs ?? 0 : undefined,
    includeUsage: body.stream_options?.include_usage === true,
  };
}

/** `error` reported against the request field `path` (a VlmError keeps its code and fix). */
export function atField(error: unknown, path: string): unknown {
  if (!(error instanceof VlmError)) return error;
  return new VlmError(error.code, `${path}: ${error.message}`, {
    fix: error.fix,
    cause: error,
    issues: [{ path, message: error.message, ...(error.fix ? { fix: error.fix } : {}) }],
  });
}
