// Compatibility with the official `openai` npm client: the server under Deno.serve on the
// shipped model, driven through the client for every chat-completions parameter, streaming and
// not, with responses checked field by field against the shapes the client's types declare, and
// the error shapes (status, type, param, code) of every refusal.
import assert from "node:assert/strict";
import OpenAI from "openai";
import { z } from "zod";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import { loadModel } from "../../src/runtime/load_model.ts";
import type { VlmModel } from "../../src/runtime/model.ts";
import { planTiles } from "../../src/tokens/tiles.ts";
import { createServerHandler, type ServerOptions } from "../../src/server/handler.ts";

const MODEL_DIR = new URL("../../models/tiny-smolvlm/", import.meta.url);
const MODEL_ID = "tiny-smolvlm";

/** The `vlmkit.image_plan` extension field of a response. */
interface ImagePlanField {
  tiles: number;
  image_tokens: number;
  max_tiles: number | null;
  split: boolean;
  images: { width: number; height: number; tiles: number; split: boolean }[];
}

async function dataUrl(name: string): Promise<string> {
  const bytes = await Deno.readFile(new URL(`../fixtures/images/sources/${name}`, import.meta.url));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `data:image/png;base64,${btoa(binary)}`;
}
const IMAGE = await dataUrl("rgb_gradient.png");

function ask(
  detail?: "auto" | "low" | "high",
  url = IMAGE,
): ChatCompletionMessageParam[] {
  return [{
    role: "user",
    content: [
      { type: "image_url", image_url: detail ? { url, detail } : { url } },
      { type: "text", text: "What is in this picture?" },
    ],
  }];
}

async function withClient(
  options: ServerOptions,
  body: (client: OpenAI, model: VlmModel) => Promise<void>,
): Promise<void> {
  const model = await loadModel(MODEL_DIR);
  const handler = createServerHandler(model, { modelName: MODEL_ID, ...options });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, handler.handle);
  const client = new OpenAI({
    baseURL: `http://127.0.0.1:${server.addr.port}/v1`,
    apiKey: "unused",
    maxRetries: 0,
  });
  try {
    await body(client, model);
  } finally {
    await server.shutdown();
    await model.dispose();
  }
}

const base = (extra: Partial<ChatCompletionCreateParamsNonStreaming> = {}) => ({
  model: MODEL_ID,
  messages: ask(),
  max_tokens: 8,
  ...extra,
});

/** Every field of a ChatCompletion, as the client's types declare it. */
function checkCompletion(completion: ChatCompletion, choices = 1): void {
  assert.match(completion.id, /^chatcmpl-[0-9a-f]{32}$/);
  assert.equal(completion.object, "chat.completion");
  assert.ok(Number.isInteger(completion.created));
  assert.ok(Math.abs(completion.created - Date.now() / 1000) < 600);
  assert.equal(completion.model, MODEL_ID);
  assert.equal(completion.choices.length, choices);
  completion.choices.forEach((choice, index) => {
    assert.equal(choice.index, index);
    assert.equal(choice.message.role, "assistant");
    assert.equal(typeof choice.message.content, "string");
    assert.doesNotMatch(choice.message.content!, /^\s/, "no leading whitespace");
    assert.equal(choice.message.refusal, null);
    assert.ok(choice.finish_reason === "stop" || choice.finish_reason === "length");
  });
  const usage = completion.usage!;
  assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
}

/** Every field of a ChatCompletionChunk. */
function checkChunk(chunk: ChatCompletionChunk, id: string): void {
  assert.equal(chunk.id, id);
  assert.equal(chunk.object, "chat.completion.chunk");
  assert.ok(Number.isInteger(chunk.created));
  assert.equal(chunk.model, MODEL_ID);
  for (const choice of chunk.choices) {
    assert.ok(Number.isInteger(choice.index));
    assert.equal(typeof choice.delta, "object");
    assert.ok(choice.finish_reason === null || ["stop", "length"].includes(choice.finish_reason));
  }
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>) {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const id = chunks[0].id;
  for (const chunk of chunks) checkChunk(chunk, id);
  const text = (index: number) =>
    chunks.flatMap((c) => c.choices.filter((x) => x.index === index))
      .map((x) => x.delta.content ?? "").join("");
  return { chunks, text };
}

/** The client's error for a request the server refuses. */
async function refusal(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    return error;
  }
  assert.fail("the request was accepted");
}

Deno.test("openai client: models, a completion field by field, unique ids, no leading space", async () => {
  await withClient({}, async (client) => {
    const models = await client.models.list();
    assert.equal(models.data.length, 1);
    assert.equal(models.data[0].id, MODEL_ID);
    assert.equal(models.data[0].object, "model");
    assert.ok(Number.isInteger(models.data[0].created));
    assert.equal(typeof models.data[0].owned_by, "string");

    const first = await client.chat.completions.create(base());
    checkCompletion(first);
    assert.equal(first.choices[0].logprobs, null);
    const second = await client.chat.completions.create(base());
    assert.notEqual(first.id, second.id);
    // Greedy by default: the same request gives the same answer.
    assert.equal(second.choices[0].message.content, first.choices[0].message.content);
  });
});

Deno.test("openai client: streaming gives the same text, include_usage adds a final usage chunk", async () => {
  await withClient({}, async (client) => {
    const plain = await client.chat.completions.create(base());
    const { chunks, text } = await collect(
      await client.chat.completions.create({ ...base(), stream: true }),
    );
    assert.equal(text(0), plain.choices[0].message.content);
    assert.equal(chunks[0].choices[0].delta.role, "assistant");
    assert.equal(chunks.at(-1)!.choices[0].finish_reason, plain.choices[0].finish_reason);
    assert.ok(chunks.every((c) => c.usage === undefined));

    const withUsage = await collect(
      await client.chat.completions.create({
        ...base(),
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    const last = withUsage.chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.deepEqual(last.usage, plain.usage);
    assert.ok(withUsage.chunks.slice(0, -1).every((c) => c.usage === null));
  });
});

Deno.test("openai client: logit_bias forces a token greedy decoding would not pick", async () => {
  await withClient({}, async (client, model) => {
    const greedy = await client.chat.completions.create(base({ max_tokens: 3, logprobs: true }));
    const greedyTokens = greedy.choices[0].logprobs!.content!.map((t) => t.token);
    // A plain word token the greedy answer does not contain.
    const [forced] = model.tokenizer.encode("cat", false);
    const spelled = model.tokenizer.decode([forced], false);
    assert.ok(!greedyTokens.includes(spelled), `greedy already says ${spelled}`);
    const biased = await client.chat.completions.create(
      base({ max_tokens: 3, logprobs: true, logit_bias: { [forced]: 100 } }),
    );
    assert.deepEqual(biased.choices[0].logprobs!.content!.map((t) => t.token), [
      spelled,
      spelled,
      spelled,
    ]);
    assert.equal(biased.usage!.completion_tokens, 3);
  });
});

Deno.test("openai client: logprobs and top_logprobs, plain and streamed", async () => {
  await withClient({}, async (client) => {
    const completion = await client.chat.completions.create(
      base({ logprobs: true, top_logprobs: 3 }),
    );
    checkCompletion(completion);
    const logprobs = completion.choices[0].logprobs!;
    assert.equal(logprobs.refusal, null);
    const content = logprobs.content!;
    assert.equal(content.length, completion.usage!.completion_tokens);
    for (const token of content) {
      assert.equal(typeof token.token, "string");
      assert.deepEqual(token.bytes, [...new TextEncoder().encode(token.token)]);
      assert.ok(token.logprob <= 0);
      assert.equal(token.top_logprobs.length, 3);
      // Greedy: the chosen token is the most likely one.
      assert.equal(token.top_logprobs[0].token, token.token);
      assert.ok(Math.abs(token.top_logprobs[0].logprob - token.logprob) < 1e-9);
      assert.ok(token.top_logprobs[0].logprob >= token.top_logprobs[1].logprob);
    }
    const streamed = await collect(
      await client.chat.completions.create({
        ...base({ logprobs: true, top_logprobs: 3 }),
        stream: true,
      }),
    );
    const tokens = streamed.chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? []);
    assert.deepEqual(tokens, content);
  });
});

Deno.test("openai client: n choices, and a seed repeats sampled answers across requests", async () => {
  await withClient({}, async (client) => {
    const request = base({ n: 3, temperature: 1.5, seed: 11, max_tokens: 6 });
    const first = await client.chat.completions.create(request);
    checkCompletion(first, 3);
    const again = await client.chat.completions.create(request);
    assert.deepEqual(
      again.choices.map((c) => c.message.content),
      first.choices.map((c) => c.message.content),
    );
    // The samples are independent draws, and another seed draws others.
    assert.ok(new Set(first.choices.map((c) => c.message.content)).size > 1);
    const other = await client.chat.completions.create({ ...request, seed: 12 });
    assert.notDeepEqual(
      other.choices.map((c) => c.message.content),
      first.choices.map((c) => c.message.content),
    );
    const streamed = await collect(
      await client.chat.completions.create({ ...request, stream: true }),
    );
    assert.deepEqual([0, 1, 2].map(streamed.text), first.choices.map((c) => c.message.content));
  });
});

Deno.test("openai client: no max_tokens uses the room the prompt leaves; detail picks the tiling", async () => {
  await withClient({ maxNewTokens: 512 }, async (client, model) => {
    const { max_tokens: _, ...unlimited } = base();
    const completion = await client.chat.completions.create(unlimited);
    checkCompletion(completion);
    assert.ok(completion.usage!.total_tokens <= 512);
    // An explicit limit past the context is refused in the request's own terms.
    const tooLong = await refusal(client.chat.completions.create(base({ max_tokens: 512 })));
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.param, "max_tokens");
    assert.match(tooLong.message, /max_tokens 512 exceeds the context of 512/);
    assert.doesNotMatch(JSON.stringify(tooLong.error), /maxNewTokens|split: false/);

    // detail picks the image budget: the prompt grows with the tiles, and the plan is reported.
    const planned = async (detail: "auto" | "low" | "high") => {
      const completion = await client.chat.completions.create(
        base({ messages: ask(detail), max_tokens: 1 }),
      );
      const plan = (completion as unknown as { vlmkit: { image_plan: ImagePlanField } }).vlmkit
        .image_plan;
      assert.equal(plan.images.length, 1);
      assert.equal(plan.tiles, plan.images[0].tiles);
      return { prompt: completion.usage!.prompt_tokens, plan };
    };
    const low = await planned("low");
    const high = await planned("high");
    const auto = await planned("auto");
    assert.deepEqual({ split: low.plan.split, tiles: low.plan.tiles }, { split: false, tiles: 1 });
    // high is the model's full split (computed by the planner without a cap).
    const { width, height } = high.plan.images[0];
    const full = planTiles(width, height, model.plan.spec.image).tiles;
    assert.ok(full > 5, `the fixture splits into more than the default budget (${full})`);
    assert.deepEqual({ tiles: high.plan.tiles, max: high.plan.max_tiles }, {
      tiles: full,
      max: null,
    });
    // auto is the wasm backend's default budget of 5 tiles an image.
    assert.deepEqual({ tiles: auto.plan.tiles, max: auto.plan.max_tiles }, { tiles: 5, max: 5 });
    assert.ok(low.prompt < auto.prompt && auto.prompt < high.prompt, JSON.stringify({ low, auto }));
    // The prompt grows by the image tokens, plus the grid's row/column markers.
    assert.ok(high.prompt - low.prompt >= high.plan.image_tokens - low.plan.image_tokens);
  });
});

Deno.test("openai client: the server's maxTiles sets what detail auto gets", async () => {
  await withClient({ maxTiles: 1 }, async (client) => {
    const completion = await client.chat.completions.create(
      base({ messages: ask("auto"), max_tokens: 1 }),
    );
    const plan = (completion as unknown as { vlmkit: { image_plan: ImagePlanField } }).vlmkit
      .image_plan;
    assert.deepEqual({ tiles: plan.tiles, max: plan.max_tiles }, { tiles: 1, max: 1 });
    const streamed = await client.chat.completions.create(
      { ...base({ messages: ask("high"), max_tokens: 1 }), stream: true },
    );
    const plans = [];
    for await (const chunk of streamed) {
      const extra = (chunk as unknown as { vlmkit?: { image_plan: ImagePlanField } }).vlmkit;
      if (extra) plans.push(extra.image_plan);
    }
    assert.equal(plans.length, 1);
    assert.ok(plans[0].tiles > 1 && plans[0].max_tiles === null, JSON.stringify(plans));
  });
});

Deno.test("openai client: developer messages and assistant turns with null content are accepted", async () => {
  await withClient({}, async (client) => {
    const completion = await client.chat.completions.create(base({
      messages: [
        { role: "developer", content: "Answer briefly." },
        ...ask(),
        { role: "assistant", content: null, refusal: null },
        { role: "user", content: "And the colors?" },
      ],
    }));
    checkCompletion(completion);
  });
});

Deno.test("openai client: refusals are 400s naming the parameter, in OpenAI's error shape", async () => {
  await withClient({ maxNewTokens: 20 }, async (client) => {
    const create = (body: Record<string, unknown>) =>
      client.chat.completions.create({ ...base(), ...body } as never);
    const cases: [Record<string, unknown>, number, string][] = [
      [{ response_format: { type: "xml" } }, 400, "response_format.type"],
      [
        { response_format: { type: "json_schema", json_schema: { name: "a" } } },
        400,
        "response_format.json_schema.schema",
      ],
      [
        {
          response_format: {
            type: "json_schema",
            json_schema: {
              name: "a",
              schema: { type: "object", properties: { s: { type: "string", pattern: "^a" } } },
            },
          },
        },
        400,
        "response_format.json_schema.schema.properties.s.pattern",
      ],
      [
        {
          tools: [{ type: "function", function: { name: "f", parameters: {} } }],
        },
        400,
        "tools",
      ],
      [{ tool_choice: "auto" }, 400, "tool_choice"],
      [{ max_tokens: 21 }, 400, "max_tokens"],
      [{ top_logprobs: 2 }, 400, "top_logprobs"],
      [{ stream_options: { include_usage: true } }, 400, "stream_options"],
      [{ n: 9 }, 400, "n"],
      [{ reasoning_effort: "low" }, 400, "reasoning_effort"],
      [{ audio: { voice: "alloy", format: "mp3" } }, 400, "audio"],
      [{ frobnicate: true }, 400, "frobnicate"],
      [{ model: "gpt-4o" }, 404, "model"],
      [{ messages: [{ role: "tool", content: "x", tool_call_id: "1" }] }, 400, "messages[0].role"],
      [{ messages: [{ role: "user", content: "x", name: "bob" }] }, 400, "messages[0].name"],
      [
        {
          messages: [...ask("low"), ...ask("high")],
        },
        400,
        "messages[1].content[0].image_url.detail",
      ],
    ];
    for (const [body, status, param] of cases) {
      const error = await refusal(create(body));
      const label = JSON.stringify(body).slice(0, 80);
      assert.equal(error.status, status, label);
      assert.equal(error.param, param, label);
      assert.equal(error.type, "invalid_request_error", label);
      assert.equal(typeof error.code, "string", label);
      assert.match(error.message, new RegExp(param.replace(/[[\].]/g, "\\$&")), label);
    }
    // Several at once: each is named.
    const both = await refusal(create({ tools: [{}], logprobs: "yes" }));
    const issues = (both.error as { issues: { path: string }[] }).issues.map((i) => i.path);
    assert.deepEqual(issues.sort(), ["logprobs", "tools"]);
  });
});

/** The JSON value of `text`, or the text itself when it is not JSON. */
function parsedOrText(text: string | null): unknown {
  try {
    return JSON.parse(text ?? "");
  } catch {
    return text;
  }
}

Deno.test("openai client: response_format json_schema and json_object give valid JSON", async () => {
  // The shipped model never answers in JSON by itself: only the constraint can make these valid.
  const schema = {
    type: "object",
    properties: {
      colour: { enum: ["red", "green", "blue"] },
      count: { type: "integer" },
      tags: { type: "array", items: { type: "string", maxLength: 6 }, maxItems: 3 },
    },
    required: ["colour", "count", "tags"],
    additionalProperties: false,
  };
  const validate = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  await withClient({}, async (client) => {
    const plain = await client.chat.completions.create(base({ max_tokens: 48 }));
    assert.equal(validate.safeParse(parsedOrText(plain.choices[0].message.content)).success, false);

    const format = { type: "json_schema" as const, json_schema: { name: "shape", schema } };
    const answer = await client.chat.completions.create(
      base({ max_tokens: 96, response_format: format }),
    );
    assert.equal(answer.choices[0].finish_reason, "stop");
    const parsed = validate.safeParse(JSON.parse(answer.choices[0].message.content ?? ""));
    assert.ok(parsed.success, answer.choices[0].message.content ?? "");

    // Streamed, sampled with a seed: the deltas join into a valid document too.
    const stream = await client.chat.completions.create({
      ...base({ max_tokens: 96, response_format: format, temperature: 1, seed: 7 }),
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.ok(validate.safeParse(JSON.parse(text)).success, text);

    const object = await client.chat.completions.create(
      base({ max_tokens: 64, response_format: { type: "json_object" } }),
    );
    const value = JSON.parse(object.choices[0].message.content ?? "");
    assert.equal(typeof value, "object");
    assert.ok(value !== null && !Array.isArray(value));
  });
});

Deno.test("openai client: an undecodable image is a 400 before a stream starts", async () => {
  await withClient({}, async (client) => {
    const broken = "data:image/png;base64," + btoa("\x89PNG\r\n\x1a\n" + "garbage".repeat(20));
    for (const stream of [false, true]) {
      const error = await refusal(
        (async () => {
          const response = await client.chat.completions.create({
            ...base({ messages: [{ role: "developer", content: "hi" }, ...ask("auto", broken)] }),
            stream,
          } as never);
          // A stream that started must not be what the client gets.
          if (stream) {
            for await (const _ of response as unknown as AsyncIterable<unknown>) {
              /* drain */
            }
          }
        })(),
      );
      assert.equal(error.status, 400, `stream ${stream}: ${error.message}`);
      assert.equal(error.param, "messages[1].content[0].image_url");
    }
  });
});
