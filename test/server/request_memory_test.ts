// The server's own limits on what a request may make it allocate, driven through fetch against
// Deno.serve: a decompression bomb is refused from its header, and a request whose plan would
// exceed the memory budget is refused with the smaller request that fits.
import assert from "node:assert/strict";
import fc from "fast-check";
import { createDeflate } from "node:zlib";
import { loadModel } from "../../src/runtime/load_model.ts";
import { createServerHandler, type ServerOptions } from "../../src/server/handler.ts";
import { requestMemory } from "../../src/server/request_memory.ts";
import { ihdr, png, pngChunk } from "../fuzz/_hostile_images.ts";
import { trackPeakRss } from "../../tools/bench/peak_rss.ts";

const MODEL_DIR = new URL("../../models/tiny-smolvlm/", import.meta.url);
const model = await loadModel(MODEL_DIR);

/** A valid 7000×7000 RGB PNG of one colour: ~147 MB of pixels in ~150 kB, deflated row by row. */
async function bombPng(): Promise<Uint8Array> {
  const side = 7000;
  const row = new Uint8Array(1 + 3 * side);
  const deflate = createDeflate({ level: 9 });
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  deflate.on("data", (chunk: Uint8Array<ArrayBuffer>) => chunks.push(chunk));
  const done = new Promise((resolve) => deflate.on("end", resolve));
  for (let y = 0; y < side; y++) deflate.write(row);
  deflate.end();
  await done;
  const idat = new Uint8Array(await new Blob(chunks).arrayBuffer());
  return png(ihdr(side, side), pngChunk("IDAT", idat), pngChunk("IEND"));
}

function dataUrl(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return `data:image/png;base64,${btoa(binary)}`;
}

async function withServer(
  options: ServerOptions,
  body: (post: (json: unknown) => Promise<Response>) => Promise<void>,
): Promise<void> {
  const handler = createServerHandler(model, options);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, handler.handle);
  const post = (json: unknown) =>
    fetch(`http://127.0.0.1:${server.addr.port}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(json),
    });
  try {
    await body(post);
  } finally {
    await server.shutdown();
  }
}

const chat = (url: string, detail: "low" | "high" | "auto", maxTokens = 4) => ({
  messages: [{
    role: "user",
    content: [{ type: "image_url", image_url: { url, detail } }, { type: "text", text: "What?" }],
  }],
  max_tokens: maxTokens,
});

Deno.test("server: a 7000×7000 PNG bomb of ~150 kB is refused from its header, not decoded", async () => {
  const bomb = await bombPng();
  assert.ok(bomb.length < 200_000, `${bomb.length} bytes`);
  await withServer({}, async (post) => {
    const rss = trackPeakRss();
    const before = Deno.memoryUsage().rss;
    const started = performance.now();
    const response = await post(chat(dataUrl(bomb), "auto"));
    const elapsed = performance.now() - started;
    rss.stop();
    const body = await response.json();
    assert.equal(response.status, 413, JSON.stringify(body));
    assert.equal(body.error.code, "image_too_large");
    assert.equal(body.error.param, "messages[0].content[0].image_url");
    assert.match(
      body.error.message,
      /7000×7000 = 49000000 pixels, over .* 16777216 pixels an image/,
    );
    assert.match(body.error.fix, /downscale it to at most 16777216 pixels \(e\.g\. 4096×4096\)/);
    // Decoding would hold ≥ 147 MB of pixels for seconds; the refusal allocates none of it.
    assert.ok(elapsed < 3000, `${elapsed} ms`);
    // Sampled every 20 ms while the request ran (VmHWM already holds the model load's peak).
    const grew = rss.sampledPeak() - before;
    assert.ok(grew < 100 * 2 ** 20, `RSS rose ${grew} bytes`);
  });
  // The limit is the server's to set: above it the bomb reaches the total-pixel budget instead.
  await withServer({ maxPixelsPerImage: 50_000_000, maxImagePixels: 40_000_000 }, async (post) => {
    const body = await (await post(chat(dataUrl(bomb), "auto"))).json();
    assert.match(body.error.message, /over this server's limit of 40000000$/);
  });
});

Deno.test("server: a request whose plan exceeds the memory budget is a 413 naming a smaller one", async () => {
  const image = await Deno.readFile(
    new URL("../fixtures/images/sources/rgb_gradient.png", import.meta.url),
  );
  const url = dataUrl(image);
  const size = { width: 200, height: 120 };
  const shape = { images: [size], textTokens: 1, maxNewTokens: 4 };
  const low = requestMemory(model.plan, { ...shape, split: false, maxTiles: 1 });
  const high = requestMemory(model.plan, { ...shape, split: true, maxTiles: Infinity });
  assert.ok(high.tiles > low.tiles && high.totalBytes > low.totalBytes);
  const budget = Math.floor((low.totalBytes + high.totalBytes) / 2);
  await withServer({ memoryBudgetBytes: budget }, async (post) => {
    const refused = await post(chat(url, "high"));
    const body = await refused.json();
    assert.equal(refused.status, 413, JSON.stringify(body));
    assert.equal(body.error.code, "payload_too_large");
    assert.match(body.error.message, new RegExp(`vision ${high.tiles} tiles`));
    assert.match(body.error.fix, /detail "low"/);
    const fits = await post(chat(url, "low"));
    assert.equal(fits.status, 200, await fits.clone().text());
    assert.equal((await fits.json()).vlmkit.image_plan.tiles, 1);
  });
  // Without a budget the same request runs.
  await withServer({}, async (post) => {
    const response = await post(chat(url, "high"));
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });
});

Deno.test("server: bad limits are usage errors", () => {
  for (const options of [{ memoryBudgetBytes: 0 }, { maxPixelsPerImage: 1.5 }, { maxTiles: 0 }]) {
    assert.throws(() => createServerHandler(model, options), /must be/);
  }
});

Deno.test("request memory: grows with tiles, image pixels and new tokens", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4000 }),
      fc.integer({ min: 1, max: 4000 }),
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 200 }),
      (width, height, maxNewTokens, textTokens) => {
        const shape = { images: [{ width, height }], textTokens, maxNewTokens };
        const one = requestMemory(model.plan, { ...shape, split: false, maxTiles: 1 });
        const all = requestMemory(model.plan, { ...shape, split: true, maxTiles: Infinity });
        const more = requestMemory(model.plan, {
          ...shape,
          maxNewTokens: maxNewTokens + 64,
          split: false,
          maxTiles: 1,
        });
        assert.ok(all.totalBytes >= one.totalBytes);
        assert.ok(more.kvBytes >= one.kvBytes);
        assert.equal(one.totalBytes, one.imageBytes + one.visionBytes + one.kvBytes);
        assert.equal(one.imageBytes, 4 * width * height);
      },
    ),
  );
});

globalThis.addEventListener("unload", () => model.dispose());
