// The server's image budget: malformed images are refused before the request queues,
// a request's pixels are bounded (413), fetching and checking its images is bounded in
// time (408), and the server stays responsive while hostile images are posted.
import assert from "node:assert/strict";
import { loadModel } from "../../src/runtime/load_model.ts";
import { createServerHandler, type ServerOptions } from "../../src/server/handler.ts";
import { TINY_MODEL } from "../runtime/_tiny_model.ts";
import {
  lateHugeIhdrPng,
  lateIhdrPng,
  truncatedBigJpeg,
  zerosPng,
} from "../fuzz/_hostile_images.ts";

const SOURCES = new URL("../fixtures/images/sources/", import.meta.url);
const TINY = await Deno.readFile(new URL("tiny.png", SOURCES));
const JPEG_SEED = await Deno.readFile(new URL("photo_baseline.jpg", SOURCES));

function dataUrl(bytes: Uint8Array, type = "image/png"): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `data:${type};base64,${btoa(binary)}`;
}

const chat = (url: string) => ({
  model: "tiny",
  messages: [{
    role: "user",
    content: [{ type: "image_url", image_url: { url } }, { type: "text", text: "What is it?" }],
  }],
  max_tokens: 4,
});

async function withServer(
  options: ServerOptions,
  body: (url: string) => Promise<void>,
): Promise<void> {
  const model = await loadModel(TINY_MODEL);
  const handler = createServerHandler(model, { modelName: "tiny", ...options });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, handler.handle);
  try {
    await body(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
    await model.dispose();
  }
}

async function post(url: string, body: unknown): Promise<{ status: number; code?: string }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  return { status: response.status, code: json.error?.code };
}

Deno.test("server: a malformed image is 400 and a request over the pixel budget 413, then work goes on", async () => {
  await withServer({ maxImagePixels: 1_000_000 }, async (url) => {
    const chatUrl = `${url}/v1/chat/completions`;
    assert.deepEqual(await post(chatUrl, chat(dataUrl(lateHugeIhdrPng()))), {
      status: 400,
      code: "image_invalid",
    });
    // 2000x2000 with a single, valid IHDR: only the budget refuses it.
    assert.deepEqual(await post(chatUrl, chat(dataUrl(zerosPng(2000, 2000, 8, 0)))), {
      status: 413,
      code: "image_too_large",
    });
    // A request's images count together: 3 × 600x600 is over 1 MP, one of them is not.
    const third = { type: "image_url", image_url: { url: dataUrl(zerosPng(600, 600, 8, 0)) } };
    const three = chat(dataUrl(TINY));
    three.messages[0].content.unshift(third, third, third);
    assert.deepEqual(await post(chatUrl, three), { status: 413, code: "image_too_large" });
    const ok = await post(chatUrl, chat(dataUrl(TINY)));
    assert.equal(ok.status, 200);
  });
});

Deno.test("server: fetching a request's images past the image time budget is 408", async () => {
  const hang = new AbortController();
  const slow = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {}, signal: hang.signal },
    () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(TINY.subarray(0, 10)); // then nothing: a stalled upload
          },
        }),
      ),
  );
  try {
    await withServer({ allowRemoteImages: true, imageTimeMs: 300 }, async (url) => {
      const started = performance.now();
      const result = await post(
        `${url}/v1/chat/completions`,
        chat(`http://127.0.0.1:${slow.addr.port}/image.png`),
      );
      assert.deepEqual(result, { status: 408, code: "image_timeout" });
      assert.ok(performance.now() - started < 3000);
      assert.equal((await post(`${url}/v1/chat/completions`, chat(dataUrl(TINY)))).status, 200);
    });
  } finally {
    hang.abort();
    await slow.finished;
  }
});

Deno.test("server: /healthz answers within 1 s while malformed images are posted repeatedly", async () => {
  const hostile = [
    dataUrl(lateHugeIhdrPng()),
    dataUrl(lateIhdrPng()),
    dataUrl(truncatedBigJpeg(JPEG_SEED), "image/jpeg"),
    dataUrl(zerosPng(7000, 7000)), // 49 MP of valid zeros: over the default 1 MP test budget
  ];
  await withServer({ maxImagePixels: 1_000_000 }, async (url) => {
    const rssBefore = Deno.memoryUsage().rss;
    let stop = false;
    const statuses: number[] = [];
    const posters = [0, 1, 2, 3].map(async (worker) => {
      for (let i = worker; !stop; i++) {
        statuses.push((await post(`${url}/v1/chat/completions`, chat(hostile[i % 4]))).status);
      }
    });
    const latencies: number[] = [];
    for (let i = 0; i < 15; i++) {
      const started = performance.now();
      const response = await fetch(`${url}/healthz`);
      assert.equal(response.status, 200);
      await response.body?.cancel();
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    stop = true;
    await Promise.all(posters);
    const rssAfter = Deno.memoryUsage().rss;
    console.log(
      `healthz worst ${
        Math.max(...latencies).toFixed(0)
      } ms over ${statuses.length} hostile posts; ` +
        `RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB`,
    );
    assert.ok(statuses.length >= 20, `${statuses.length} posts`);
    assert.ok(statuses.every((s) => s === 400 || s === 413), `statuses ${[...new Set(statuses)]}`);
    assert.ok(Math.max(...latencies) < 1000, `healthz took ${Math.max(...latencies)} ms`);
    assert.equal((await post(`${url}/v1/chat/completions`, chat(dataUrl(TINY)))).status, 200);
  });
});
