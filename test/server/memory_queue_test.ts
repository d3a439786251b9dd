// The server's memory-aware queue over real HTTP on the shipped tiny model: requests that fit
// the memory budget alone but not next to those in flight wait their turn in arrival order and
// the in-flight estimate never passes the budget; a full queue and a wait that runs out are 503
// with Retry-After (seen through the official `openai` client); a client that disconnects while
// waiting leaves the queue; bad queue options are refused by name.
import assert from "node:assert/strict";
import OpenAI from "openai";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import {
  createServerHandler,
  type ServerHandler,
  type ServerOptions,
} from "../../src/server/handler.ts";

const MODEL_DIR = new URL("../../models/tiny-smolvlm/", import.meta.url);
const model = await loadModel(MODEL_DIR);
const IMAGE = await Deno.readFile(
  new URL("../fixtures/images/sources/rgb_gradient.png", import.meta.url),
);
const DATA_URL = `data:image/png;base64,${btoa(String.fromCharCode(...IMAGE))}`;
const EOS = String(model.plan.spec.tokens.eosIds[0]);

/** A chat body; `image` adds the gradient, `hold` bans EOS so it runs all its tokens. */
function body(options: { image?: boolean; tokens?: number; hold?: boolean; stream?: boolean }) {
  const content: unknown[] = [{ type: "text", text: "Describe it." }];
  if (options.image) content.unshift({ type: "image_url", image_url: { url: DATA_URL } });
  return {
    messages: [{ role: "user", content }],
    max_tokens: options.tokens ?? 2,
    ...(options.hold ? { logit_bias: { [EOS]: -100 } } : {}),
    ...(options.stream ? { stream: true } : {}),
  };
}

async function withServer(
  options: ServerOptions,
  run: (url: string, handler: ServerHandler) => Promise<void>,
): Promise<void> {
  const handler = createServerHandler(model, { modelName: "tiny", ...options });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, handler.handle);
  try {
    await run(`http://127.0.0.1:${server.addr.port}`, handler);
  } finally {
    await server.shutdown();
  }
}

const post = (url: string, json: unknown, signal?: AbortSignal) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(json),
    signal,
  });

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), `timed out waiting until ${what}`);
}

/** The queue's estimate of one request, read from a server that ran only it. */
async function costOf(json: unknown): Promise<number> {
  let cost = 0;
  await withServer({ memoryBudgetBytes: 2 ** 40 }, async (url, handler) => {
    const response = await post(url, json);
    assert.equal(response.status, 200);
    await response.json();
    cost = handler.memory().peakInFlightBytes;
  });
  assert.ok(cost > 0);
  return cost;
}

/** A streaming request that holds its turn until `release` is called. */
async function holdTurn(url: string, image: boolean): Promise<() => Promise<void>> {
  const response = await post(url, body({ image, tokens: 300, hold: true, stream: true }));
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  await reader.read(); // the role chunk: it is running
  return () => reader.cancel();
}

Deno.test("memory queue: concurrent requests wait in arrival order, in-flight estimate ≤ budget", async () => {
  const imageCost = await costOf(body({ image: true }));
  const textCost = await costOf(body({}));
  const heldCost = await costOf(body({ image: true, tokens: 300 }));
  assert.ok(textCost < imageCost && imageCost < heldCost);
  // One image request and one text request fit together; the held one and an image one do not.
  const budget = Math.max(heldCost, imageCost + textCost) + 1;
  assert.ok(heldCost + imageCost > budget && 2 * imageCost + textCost > budget);
  await withServer(
    { memoryBudgetBytes: budget, maxConcurrent: 4, maxQueue: 8 },
    async (url, handler) => {
      const stop = await holdTurn(url, true);
      const kinds = [true, false, true, false, true];
      const finished: number[] = [];
      const pending: Promise<void>[] = [];
      for (const [i, image] of kinds.entries()) {
        const before = handler.stats();
        pending.push(
          post(url, body({ image })).then(async (r) => {
            assert.equal(r.status, 200, await r.clone().text());
            await r.json();
            finished.push(i);
          }),
        );
        // The next request is sent once this one is counted, so arrival order is known.
        await until(() => {
          const now = handler.stats();
          return now.active + now.waiting > before.active + before.waiting;
        }, `request ${i} arrived`);
      }
      // The first image request waits for the held one (2 × image > budget), so all do (FIFO).
      assert.equal(handler.stats().waiting, kinds.length);
      assert.equal(handler.stats().active, 1);
      await stop();
      await Promise.all(pending);
      assert.deepEqual(finished, kinds.map((_, i) => i));
      const memory = handler.memory();
      assert.ok(memory.peakInFlightBytes <= budget, `${memory.peakInFlightBytes} > ${budget}`);
      // An image request and a text request were in flight together.
      assert.ok(memory.peakInFlightBytes >= imageCost + textCost);
      assert.equal(memory.inFlightBytes, 0);
      assert.equal(memory.budgetBytes, budget);
    },
  );
});

Deno.test("memory queue: a request over the budget on its own is refused at once with 413 and the fix", async () => {
  const imageCost = await costOf(body({ image: true }));
  await withServer({ memoryBudgetBytes: imageCost - 1 }, async (url, handler) => {
    const response = await post(url, body({ image: true }));
    assert.equal(response.status, 413);
    const { error } = await response.json();
    assert.equal(error.code, "payload_too_large");
    assert.match(error.fix, /detail "low"|max_tokens|smaller/);
    assert.deepEqual(handler.stats(), { active: 0, waiting: 0, aborted: 0 });
  });
});

Deno.test("memory queue: a full queue and a wait that runs out are 503 with Retry-After (openai client)", async () => {
  await withServer({ maxQueue: 1, maxQueueWaitMs: 300 }, async (url, handler) => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    const stop = await holdTurn(url, false);
    const ask = () =>
      client.chat.completions.create(
        body({}) as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming,
      );
    const waiting = ask().then(() => undefined, (e: unknown) => e);
    await until(() => handler.stats().waiting === 1, "one waits");
    const full = await ask().then(() => undefined, (e: unknown) => e);
    assert.ok(full instanceof OpenAI.APIError, String(full));
    assert.equal(full.status, 503);
    assert.equal(full.code, "queue_full");
    assert.equal(full.type, "server_error");
    assert.equal(full.headers?.get("retry-after"), "1");
    const started = performance.now();
    const timedOut = await waiting;
    assert.ok(timedOut instanceof OpenAI.APIError, String(timedOut));
    assert.equal(timedOut.status, 503);
    assert.equal(timedOut.code, "queue_timeout");
    assert.equal(timedOut.headers?.get("retry-after"), "1");
    assert.ok(performance.now() - started < 5_000);
    assert.deepEqual(handler.stats(), { active: 1, waiting: 0, aborted: 0 });
    await stop();
    await until(() => handler.stats().active === 0, "the held request ends");
    const answer = await ask();
    assert.equal(answer.object, "chat.completion");
  });
});

Deno.test("memory queue: a client that disconnects while waiting leaves the queue", async () => {
  await withServer({ maxQueue: 2 }, async (url, handler) => {
    const stop = await holdTurn(url, false);
    const client = new AbortController();
    const gone = post(url, body({}), client.signal).catch((e: unknown) => e);
    await until(() => handler.stats().waiting === 1, "one waits");
    const behind = post(url, body({}));
    await until(() => handler.stats().waiting === 2, "two wait");
    client.abort();
    assert.ok((await gone) instanceof DOMException);
    await until(() => handler.stats().waiting === 1, "the gone client left");
    assert.equal(handler.memory().leftWaiting, 1);
    await stop();
    const next = await behind;
    assert.equal(next.status, 200);
    await next.json();
    assert.equal(handler.stats().waiting, 0);
  });
});

Deno.test("memory queue: bad queue options are refused by name", () => {
  for (
    const [key, value] of [
      ["maxQueue", 0],
      ["maxQueueWaitMs", -1],
      ["maxConcurrent", 0],
      ["timeoutMs", -5],
      ["maxQueue", 1.5],
    ] as const
  ) {
    assert.throws(
      () => createServerHandler(model, { [key]: value }),
      (e: unknown) =>
        e instanceof VlmError && e.code === "usage" && e.message.includes(key) &&
        e.message.includes(String(value)) && (e.fix ?? "").includes(key),
      `${key}: ${value}`,
    );
  }
});

globalThis.addEventListener("unload", () => model.dispose());
