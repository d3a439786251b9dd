/**
 * The edge server as a plain `(Request) => Promise<Response>` function, so
 * it runs under `Deno.serve`, Deno Deploy or any fetch-style host:
 *
 * - `POST /v1/chat/completions` — OpenAI-compatible, `stream: true` sends SSE;
 * - `POST /v1/tasks/{name}` — a task plugin (the model's, or one given in
 *   `options.plugins`), typed JSON result;
 * - `POST /v1/documents` — a PDF or page images converted by a DocTags model,
 *   page results as server-sent events (`documents_route.ts`), when the
 *   `documents` option brings the route in (it carries PDFium, ~3 MB, which
 *   bundles of servers that never convert documents should not);
 * - `GET /v1/models`, `GET /healthz`.
 *
 * Limits: request body bytes, max new tokens, a bounded memory-aware queue
 * (`request_queue.ts`: 503 with Retry-After when full or when a wait runs
 * out), a per-request time limit; a client that disconnects while waiting
 * leaves the queue (`request.signal`, read only by a request that waits,
 * until it is admitted: no response exists yet, so its abort means the client
 * left), and one that disconnects while running aborts its generation
 * (through the response body's cancellation). Errors are OpenAI's JSON `{error: {message, type, param, code}}`
 * plus vlmkit's `fix` and `issues`.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { runTask } from "../plugins/run_task.ts";
import type { TaskPlugin } from "../plugins/types.ts";
import { pluginProblems } from "../plugins/validate_plugin.ts";
import type { VlmModel } from "../runtime/model.ts";
import { errorResponse, responseForError } from "./http_error.ts";
import { DEFAULT_MAX_PIXELS } from "../image/decode.ts";
import { ImageBudget } from "./image_budget.ts";
import { imageUrlBytes, type ImageUrlOptions } from "./image_urls.ts";
import { chatCompletion } from "./chat_completion.ts";
// Type only: the route itself comes in through `options.documents`.
import type { DocumentsRoute } from "./documents_route.ts";
import { parseChatRequest, toGenerateRequest } from "./openai_chat.ts";
import { type QueueMemory, RequestQueue } from "./request_queue.ts";
import { busyResponse } from "./busy_response.ts";
import { isMaxTiles } from "../runtime/load_options.ts";
import type { GenerateRequest } from "../runtime/generation_types.ts";
import type { ChatMessage } from "../text/messages.ts";
import { assertWithinMemory } from "./request_memory.ts";

/** The text of a conversation, for counting its tokens. */
function messageText(messages: readonly ChatMessage[]): string {
  return messages.map((m) =>
    typeof m.content === "string"
      ? m.content
      : m.content.map((part) => part.type === "text" ? part.text : "").join(" ")
  ).join("\n");
}

/** Server limits and naming. */
export interface ServerOptions {
  /** Model id reported by `/v1/models` and in responses (default "vlmkit"). */
  modelName?: string;
  /** Largest request body in bytes (default 20 MB). */
  maxBodyBytes?: number;
  /**
   * Upper bound on `max_tokens` (default 512). A request that omits it may use
   * up to this many, or the room its prompt leaves in the context if less.
   */
  maxNewTokens?: number;
  /** Requests allowed to wait for a turn (default 8, at least 1); one more is 503. */
  maxQueue?: number;
  /** Longest wait for a turn in ms (default 30 000); past it: 503 with Retry-After. */
  maxQueueWaitMs?: number;
  /**
   * Requests admitted at once (default 1: the model runs one request at a
   * time anyway). With `memoryBudgetBytes`, a request is admitted only when
   * its estimate fits the budget next to those of the requests in flight.
   */
  maxConcurrent?: number;
  /** Per-request time limit in ms, queueing included (default 120 000). */
  timeoutMs?: number;
  /** Fetch `http(s)` image URLs (default false: only `data:` URLs). */
  allowRemoteImages?: boolean;
  /**
   * Total pixels of one request's images (default 50 000 000). Each image is
   * validated and counted as it arrives, before the request queues: over the
   * budget is 413, a malformed image 400.
   */
  maxImagePixels?: number;
  /**
   * Most tiles per image for requests whose images say `detail: "auto"` (or
   * nothing); default: the model's budget (5 on the wasm backend, no cap on
   * native). `detail: "low"` is always unsplit, `"high"` the full split.
   */
  maxTiles?: number;
  /**
   * Pixels of any one image, read from its header before anything is decoded
   * (default 4096² = 16 777 216; over it: 413).
   */
  maxPixelsPerImage?: number;
  /**
   * Memory the requests in flight may add on top of the loaded model, in bytes
   * (default: no limit). Each request's is estimated from its plan before it
   * queues — decoded images, tiles × the vision encoder's per-tile
   * activations, the KV cache for prompt + max_tokens (see `requestMemory`).
   * One over it on its own: 413 with the smaller request that fits; one that
   * fits alone but not next to those in flight waits its turn.
   */
  memoryBudgetBytes?: number;
  /** Time for fetching and checking one request's images, in ms (default 10 000; past it: 408). */
  imageTimeMs?: number;
  /**
   * Task plugins served at `POST /v1/tasks/{name}` besides those registered on
   * the model (e.g. loaded from a bundle); a name may not be served twice.
   */
  plugins?: readonly TaskPlugin<unknown>[];
  /**
   * Serves `POST /v1/documents`: pass `documentsRoute` from
   * `@vlmkit/vlmkit/document`. Left out, the route answers 404 and the
   * handler (and a bundle of it) carries no PDF code.
   */
  documents?: DocumentsRoute;
}

/** A request handler and its live counters. */
export interface ServerHandler {
  /** Handles one HTTP request. */
  handle(request: Request): Promise<Response>;
  /** Requests running and waiting. */
  stats(): { active: number; waiting: number; aborted: number };
  /** The queue's in-flight memory estimate (and its peak) against the budget. */
  memory(): QueueMemory;
}

/** Refuses a queue or time option that is not a positive integer, naming it. */
function assertPositiveInteger(key: string, value: number | undefined): void {
  if (value === undefined || (Number.isInteger(value) && value > 0)) return;
  throw new VlmError(
    "usage",
    `createServerHandler: ${key} must be a positive integer, got ${value}`,
    {
      fix: `pass ${key} as a positive integer (e.g. ${
        QUEUE_EXAMPLES[key] ?? 1
      }), or leave it unset`,
    },
  );
}

const QUEUE_EXAMPLES: Record<string, number> = {
  maxQueue: 8,
  maxQueueWaitMs: 30_000,
  maxConcurrent: 1,
  timeoutMs: 120_000,
};

/** Reads the body as JSON, refusing more than `limit` bytes. */
async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw bodyTooLarge(limit);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body ?? new ReadableStream<Uint8Array>()) {
    total += chunk.length;
    if (total > limit) throw bodyTooLarge(limit);
    chunks.push(chunk);
  }
  const text = new TextDecoder().decode(chunks.length === 1 ? chunks[0] : concat(chunks, total));
  try {
    return JSON.parse(text);
  } catch {
    throw new VlmError("input_invalid", "the request body is not JSON", {
      fix: "send Content-Type: application/json",
    });
  }
}

function bodyTooLarge(limit: number): VlmError {
  return new VlmError("payload_too_large", `request body exceeds ${limit} bytes`, {
    fix: "send a smaller request or images",
  });
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** `plugins` by name, checked: each well-formed, no name twice or also on the model. */
function servedPlugins(
  model: VlmModel,
  plugins: readonly TaskPlugin<unknown>[],
): Map<string, TaskPlugin<unknown>> {
  const byName = new Map<string, TaskPlugin<unknown>>();
  const problems: string[] = [];
  plugins.forEach((plugin, i) => {
    const issues = pluginProblems(plugin);
    if (issues.length) problems.push(`plugins[${i}]: ${issues.join("; ")}`);
    else if (byName.has(plugin.name) || model.tasks.includes(plugin.name)) {
      problems.push(`plugins[${i}]: task "${plugin.name}" is already served`);
    } else byName.set(plugin.name, plugin);
  });
  if (problems.length) {
    throw new VlmError("usage", `createServerHandler: ${problems.join("; ")}`, {
      fix: "pass well-formed plugins (see TaskPlugin), each task name once, " +
        "either on the model (loadModel plugins) or here",
    });
  }
  return byName;
}

/** Builds the handler for `model`. */
export function createServerHandler(model: VlmModel, options: ServerOptions = {}): ServerHandler {
  if (options.maxTiles !== undefined && !isMaxTiles(options.maxTiles)) {
    throw new VlmError(
      "usage",
      `createServerHandler: maxTiles must be an integer ≥ 1 or Infinity, got ${options.maxTiles}`,
      { fix: "pass maxTiles: 5 (1 = unsplit), or leave it unset for the model's budget" },
    );
  }
  for (
    const key of [
      "maxPixelsPerImage",
      "memoryBudgetBytes",
      "maxQueue",
      "maxQueueWaitMs",
      "maxConcurrent",
      "timeoutMs",
    ] as const
  ) assertPositiveInteger(key, options[key]);
  const name = options.modelName ?? "vlmkit";
  const maxBody = options.maxBodyBytes ?? 20_000_000;
  const maxNewTokens = options.maxNewTokens ?? 512;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const queue = new RequestQueue({
    maxWaiting: options.maxQueue ?? 8,
    maxWaitMs: options.maxQueueWaitMs ?? 30_000,
    maxActive: options.maxConcurrent ?? 1,
    budgetBytes: options.memoryBudgetBytes,
  });
  let aborted = 0;
  const created = Math.floor(Date.now() / 1000);
  const plugins = servedPlugins(model, options.plugins ?? []);
  const taskNames = [...model.tasks, ...plugins.keys()];

  // One budget per request: every image of the request counts against it.
  const imageOptions = (signal: AbortSignal): ImageUrlOptions & { budget: ImageBudget } => ({
    allowRemote: options.allowRemoteImages ?? false,
    maxBytes: maxBody,
    signal,
    budget: new ImageBudget({
      maxPixels: options.maxImagePixels ?? DEFAULT_MAX_PIXELS,
      maxPixelsPerImage: options.maxPixelsPerImage,
      timeMs: options.imageTimeMs ?? 10_000,
    }),
  });

  /**
   * Refuses (413) a request whose plan would need more than the memory budget
   * on its own; returns its estimate (0 without a budget), its cost in the queue.
   */
  const checkMemory = (
    budget: ImageBudget,
    request: Pick<GenerateRequest, "split" | "maxTiles" | "maxNewTokens">,
    text: string,
  ): number => {
    if (options.memoryBudgetBytes === undefined) return 0;
    return assertWithinMemory(model.plan, {
      images: budget.sizes,
      split: request.split,
      maxTiles: model.imageBudget(request),
      textTokens: model.tokenizer.encode(text).length,
      maxNewTokens: request.maxNewTokens,
    }, options.memoryBudgetBytes);
  };

  /**
   * A turn for a request estimated at `cost` bytes (unknown: the whole
   * budget, so it runs alone), or the 503 refusing it. A request that must
   * wait also listens to its own `request.signal`, which aborts when the
   * client goes away; one admitted at once never reads it (Deno warns about
   * reading it, since it also aborts once a response is sent).
   */
  async function admitted<T>(
    signal: AbortSignal,
    request: Request,
    cost: number,
    run: (release: () => void) => Promise<T>,
  ): Promise<T | Response> {
    let admission = queue.tryAdmit(cost);
    if (!admission) {
      // Listened to only while waiting, then detached.
      const left = request.signal;
      const gone = new AbortController();
      const onLeft = () => gone.abort(new DOMException("the client went away", "AbortError"));
      left.addEventListener("abort", onLeft, { once: true });
      try {
        admission = await queue.admit(cost, AbortSignal.any([signal, gone.signal]));
      } finally {
        left.removeEventListener("abort", onLeft);
      }
    }
    if (!admission.admitted) return busyResponse(admission.reason, queue.limits);
    return await run(admission.release);
  }

  const admitFor =
    (request: Request, cost = options.memoryBudgetBytes ?? 0) =>
    async (signal: AbortSignal): Promise<(() => void) | Response> =>
      await admitted(signal, request, cost, (release) => Promise.resolve(release));

  async function chat(request: Request, signal: AbortSignal): Promise<Response> {
    const body = parseChatRequest(await readJsonBody(request, maxBody));
    if (body.model != null && body.model !== name) {
      throw VlmError.fromIssues("not_found", `model "${body.model}" is not served here`, [{
        path: "model",
        message: `unknown model "${body.model}"`,
        fix: `use "${name}" (see GET /v1/models)`,
      }]);
    }
    const images = imageOptions(signal);
    const plan = await toGenerateRequest(body, {
      maxNewTokens,
      images,
      maxTiles: options.maxTiles,
    });
    const cost = checkMemory(
      images.budget,
      plan.request,
      messageText(plan.request.messages ?? []),
    );
    const context = {
      model,
      name,
      timeout: signal,
      admit: admitFor(request, cost),
      onDisconnect: () => aborted++,
    };
    return await chatCompletion(context, plan, body.stream === true);
  }

  async function task(request: Request, taskName: string, signal: AbortSignal): Promise<Response> {
    if (!taskNames.includes(taskName)) {
      return errorResponse(
        new VlmError("not_found", `no task "${taskName}"`, {
          fix: `available: ${taskNames.join(", ") || "none"}`,
        }),
      );
    }
    const json = await readJsonBody(request, maxBody);
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new VlmError("input_invalid", "the task request body must be a JSON object", {
        fix: 'send e.g. {"images": ["data:image/png;base64,..."], "prompt": "..."}',
      });
    }
    const body = json as { images?: unknown; prompt?: unknown; max_tokens?: unknown };
    const urls = Array.isArray(body.images) ? body.images : [];
    if (!urls.every((u) => typeof u === "string")) {
      throw new VlmError("input_invalid", "images must be a list of image URLs", {
        fix: "send data: URLs",
      });
    }
    const limits = imageOptions(signal);
    const images = await Promise.all((urls as string[]).map((u) => imageUrlBytes(u, limits)));
    const requested = typeof body.max_tokens === "number" ? body.max_tokens : undefined;
    if (requested !== undefined && requested > maxNewTokens) {
      throw new VlmError(
        "input_invalid",
        `max_tokens ${requested} exceeds this server's limit of ${maxNewTokens}`,
        {
          fix: `ask for at most ${maxNewTokens} tokens`,
        },
      );
    }
    const cost = checkMemory(limits.budget, {
      maxNewTokens: requested ?? maxNewTokens,
    }, typeof body.prompt === "string" ? body.prompt : "");
    const result = await admitted(signal, request, cost, async (release) => {
      try {
        const input = {
          images,
          prompt: typeof body.prompt === "string" ? body.prompt : undefined,
          maxNewTokens: requested,
          signal,
        };
        const plugin = plugins.get(taskName);
        return plugin ? await runTask(model, plugin, input) : await model.task(taskName, input);
      } finally {
        release();
      }
    });
    if (result instanceof Response) return result;
    return Response.json({
      task: taskName,
      output: result.output,
      text: result.text,
      usage: { completion_tokens: result.tokenIds.length },
      finish_reason: result.finishReason,
    });
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    // Not request.signal: Deno aborts it on successful responses too (legacy behaviour).
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      if (request.method === "GET" && url.pathname === "/healthz") {
        return Response.json({
          status: "ok",
          model: name,
          queue: { ...queue.stats, ...queue.memory },
          tasks: taskNames,
        });
      }
      if (request.method === "GET" && url.pathname === "/v1/models") {
        return Response.json({
          object: "list",
          data: [{ id: name, object: "model", created, owned_by: "vlmkit" }],
        });
      }
      if (request.method === "POST" && url.pathname === "/v1/chat/completions") {
        return await chat(request, signal);
      }
      if (request.method === "POST" && url.pathname === "/v1/documents") {
        if (!options.documents) {
          throw new VlmError("not_found", "this server does not convert documents", {
            fix: "create the handler with documents: documentsRoute (from " +
              "@vlmkit/vlmkit/document); `vlm serve` does",
          });
        }
        const body = await readJsonBody(request, maxBody);
        return await options.documents({
          model,
          maxNewTokens,
          images: imageOptions(signal),
          maxPixels: options.maxImagePixels ?? DEFAULT_MAX_PIXELS,
          timeout: signal,
          // A document's memory is not estimated: it waits for the others and runs alone.
          admit: admitFor(request),
          onDisconnect: () => aborted++,
        }, body);
      }
      const taskMatch = /^\/v1\/tasks\/([a-z0-9-]+)$/.exec(url.pathname);
      if (request.method === "POST" && taskMatch) return await task(request, taskMatch[1], signal);
      return errorResponse(
        new VlmError("not_found", `no route ${request.method} ${url.pathname}`, {
          fix: "see GET /v1/models, POST /v1/chat/completions, POST /v1/documents",
        }),
      );
    } catch (error) {
      return responseForError(signal.aborted ? new DOMException("timeout", "TimeoutError") : error);
    }
  }

  return { handle, stats: () => ({ ...queue.stats, aborted }), memory: () => queue.memory };
}
