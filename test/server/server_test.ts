// The edge server over real HTTP on 127.0.0.1: OpenAI-compatible chat
// completions (plain and SSE), tasks, limits, the bounded queue, timeouts and
// client disconnects.
import assert from "node:assert/strict";
import { ocr } from "../../plugins/ocr/mod.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import type { VlmModel } from "../../src/runtime/model.ts";
import {
  createServerHandler,
  type ServerHandler,
  type ServerOptions,
} from "../../src/server/handler.ts";
import { TINY_MODEL } from "../runtime/_tiny_model.ts";

const IMAGE = await Deno.readFile(new URL("../fixtures/images/sources/tiny.png", import.meta.url));
let binary = "";
for (const byte of IMAGE) binary += String.fromCharCode(byte);
const DATA_URL = `data:image/png;base64,${btoa(binary)}`;

function chatBody(extra: Record<string, unknown> = {}) {
  return {
    model: "tiny",
    messages: [{
      role: "user",
      content: [{ type: "image_url", image_url: { url: DATA_URL } }, {
        type: "text",
        text: "What shape is this?",
      }],
    }],
    max_tokens: 12,
    ...extra,
  };
}

async function withServer(
  options: ServerOptions,
  body: (url: string, handler: ServerHandler, model: VlmModel) => Promise<void>,
): Promise<void> {
  const model = await loadModel(TINY_MODEL, { plugins: [ocr({ maxNewTokens: 8 })] });
  const handler = createServerHandler(model, { modelName: "tiny", ...options });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, handler.handle);
  try {
    await body(`http://127.0.0.1:${server.addr.port}`, handler, model);
  } finally {
    await server.shutdown();
    await model.dispose();
  }
}

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** Reads an SSE response to the end: the concatenated content and whether [DONE] came. */
async function readSse(
  response: Response,
): Promise<{ text: string; done: boolean; finish: string | null }> {
  const raw = await response.text();
  let text = "";
  let done = false;
  let finish: string | null = null;
  for (const event of raw.split("\n\n").filter((e) => e.startsWith("data: "))) {
    const data = event.slice(6);
    if (data === "[DONE]") {
      done = true;
      continue;
    }
    const chunk = JSON.parse(data);
    assert.equal(chunk.object, "chat.completion.chunk");
    text += chunk.choices[0].delta.content ?? "";
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  return { text, done, finish };
}

Deno.test("server: health, models, a chat completion, and the same text streamed as SSE", async () => {
  await withServer({}, async (url) => {
    const health = await (await fetch(`${url}/healthz`)).json();
    assert.equal(health.status, "ok");
    assert.deepEqual(health.tasks, ["ocr"]);
    const models = await (await fetch(`${url}/v1/models`)).json();
    assert.deepEqual(models.data.map((m: { id: string }) => m.id), ["tiny"]);

    const response = await post(`${url}/v1/chat/completions`, chatBody());
    assert.equal(response.status, 200);
    const completion = await response.json();
    assert.equal(completion.object, "chat.completion");
    const text = completion.choices[0].message.content;
    assert.equal(typeof text, "string");
    assert.ok(completion.usage.prompt_tokens > completion.usage.completion_tokens);

    const streamed = await post(`${url}/v1/chat/completions`, chatBody({ stream: true }));
    assert.equal(streamed.headers.get("content-type"), "text/event-stream");
    const events = await readSse(streamed);
    assert.equal(events.text, text);
    assert.ok(events.done);
    assert.ok(events.finish === "stop" || events.finish === "length");
  });
});

Deno.test("server: 8 concurrent streaming requests all complete with identical greedy text", async () => {
  await withServer({ maxQueue: 8 }, async (url, handler) => {
    const responses = await Promise.all(
      Array.from(
        { length: 8 },
        () => post(`${url}/v1/chat/completions`, chatBody({ stream: true })),
      ),
    );
    assert.ok(responses.every((r) => r.status === 200));
    const results = await Promise.all(responses.map(readSse));
    assert.ok(results.every((r) => r.done));
    assert.equal(new Set(results.map((r) => r.text)).size, 1);
    assert.deepEqual(handler.stats(), { active: 0, waiting: 0, aborted: 0 });
  });
});

Deno.test("server: a full queue answers 503 with Retry-After; a client that disconnects aborts its generation", async () => {
  await withServer({ maxQueue: 1, maxNewTokens: 450 }, async (url, handler, model) => {
    // EOS banned through logit_bias, so the request runs its full length unless aborted.
    const eos = String(model.plan.spec.tokens.eosIds[0]);
    const long = await post(
      `${url}/v1/chat/completions`,
      chatBody({ stream: true, max_tokens: 380, logit_bias: { [eos]: -100 } }),
    );
    const reader = long.body!.getReader();
    await reader.read(); // the role chunk: the request is running
    const waiting = post(`${url}/v1/chat/completions`, chatBody({ max_tokens: 2 }));
    for (let i = 0; i < 200 && handler.stats().waiting < 1; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(handler.stats().waiting, 1);
    const busy = await post(`${url}/v1/chat/completions`, chatBody());
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get("retry-after"), "1");
    assert.equal((await busy.json()).error.code, "queue_full");
    await reader.cancel(); // disconnect
    // Generation stops, the slot frees, and the waiting request runs.
    const next = await waiting;
    assert.equal(next.status, 200);
    await next.json();
    assert.equal(handler.stats().aborted, 1);
  });
});

Deno.test("server: limits and errors are structured JSON with a status per cause", async () => {
  await withServer({ maxBodyBytes: 200_000, maxNewTokens: 20, timeoutMs: 60_000 }, async (url) => {
    const expect = async (response: Response, status: number, code: string) => {
      assert.equal(response.status, status);
      const body = await response.json();
      assert.equal(body.error.code, code, JSON.stringify(body));
      return body.error;
    };
    await expect(
      await post(`${url}/v1/chat/completions`, chatBody({ max_tokens: 21 })),
      400,
      "input_invalid",
    );
    await expect(await post(`${url}/v1/chat/completions`, { messages: [] }), 400, "input_invalid");
    await expect(
      await fetch(`${url}/v1/chat/completions`, { method: "POST", body: "{" }),
      400,
      "input_invalid",
    );
    await expect(
      await post(`${url}/v1/chat/completions`, { ...chatBody(), padding: "x".repeat(300_000) }),
      413,
      "payload_too_large",
    );
    const remote = await expect(
      await post(`${url}/v1/chat/completions`, {
        messages: [{
          role: "user",
          content: [{ type: "image_url", image_url: { url: "http://127.0.0.1:9/x.png" } }],
        }],
      }),
      400,
      "input_invalid",
    );
    assert.match(remote.fix, /data: URL/);
    await expect(await fetch(`${url}/v2/nothing`), 404, "not_found");
    await expect(await post(`${url}/v1/tasks/poetry`, {}), 404, "not_found");
    await expect(
      await post(`${url}/v1/chat/completions`, {
        messages: [{
          role: "user",
          content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }],
        }],
      }),
      415,
      "image_unsupported",
    );
  });
  await withServer({ timeoutMs: 30, maxNewTokens: 450 }, async (url, _handler, model) => {
    const eos = String(model.plan.spec.tokens.eosIds[0]);
    const response = await post(
      `${url}/v1/chat/completions`,
      chatBody({ max_tokens: 380, logit_bias: { [eos]: -100 } }),
    );
    assert.equal(response.status, 504);
    assert.equal((await response.json()).error.code, "timeout");
  });
});

Deno.test("server: POST /v1/tasks/{name} runs a registered plugin and returns its typed output", async () => {
  await withServer({}, async (url) => {
    const response = await post(`${url}/v1/tasks/ocr`, { images: [DATA_URL], max_tokens: 6 });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.task, "ocr");
    assert.ok(Array.isArray(body.output.lines));
    assert.ok(body.usage.completion_tokens <= 6);
  });
});

Deno.test("server: createServerHandler serves the plugins it is given beside the model's", async () => {
  const { choice } = await import("../../plugins/examples/choice/mod.ts");
  await withServer(
    { plugins: [choice({ choices: ["red", "blue"], question: "Which color?" })] },
    async (url) => {
      const health = await (await fetch(`${url}/healthz`)).json();
      assert.deepEqual(health.tasks, ["ocr", "choice"]);
      const response = await post(`${url}/v1/tasks/choice`, { images: [DATA_URL] });
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.ok(["red", "blue"].includes(body.output.choice), body.text);
      // The model's own plugins still answer.
      assert.equal(
        (await post(`${url}/v1/tasks/ocr`, { images: [DATA_URL], max_tokens: 2 })).status,
        200,
      );
    },
  );
  const model = await loadModel(TINY_MODEL, { plugins: [ocr()] });
  try {
    assert.throws(
      () =>
        createServerHandler(model, {
          plugins: [ocr(), { name: "Bad Name", hooks: {} } as never],
        }),
      (error) =>
        error instanceof Error && "code" in error && error.code === "usage" &&
        /plugins\[0\]: task "ocr" is already served/.test(error.message) &&
        /plugins\[1\]: name "Bad Name" is not lower-case kebab.*maxNewTokens/.test(error.message),
    );
  } finally {
    await model.dispose();
  }
});

Deno.test("server: serving does not print Deno's legacy request.signal warning", async () => {
  // A child process serves and answers one request; its stderr must stay free of the warning.
  const script = `
    import { loadModel } from "${new URL("../../src/runtime/load_model.ts", import.meta.url)}";
    import { createServerHandler } from "${new URL(
    "../../src/server/handler.ts",
    import.meta.url,
  )}";
    const model = await loadModel(new URL("${TINY_MODEL}"));
    const handler = createServerHandler(model);
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler.handle);
    const url = "http://127.0.0.1:" + server.addr.port;
    const body = JSON.stringify({ messages: [{ role: "user", content: "Hi" }], max_tokens: 2 });
    for (const stream of [false, true]) {
      const r = await fetch(url + "/v1/chat/completions", {
        method: "POST",
        body: body.replace("}", ', "stream": ' + stream + "}"),
      });
      await r.text();
    }
    await server.shutdown();
    await model.dispose();
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.doesNotMatch(stderr, /request\.signal|legacy/);
});
