// POST /v1/documents over real HTTP: SSE page events, the final document, bad input as 4xx.
import assert from "node:assert/strict";
import { loadModel } from "../../src/runtime/load_model.ts";
import { createServerHandler, type ServerHandler } from "../../src/server/handler.ts";
import { documentsRoute } from "../../src/document/mod.ts";
import { decodeImage } from "../../src/image/decode.ts";
import { TINY_MODEL } from "../runtime/_tiny_model.ts";
import { EOS, fakeModel } from "./_fake_model.ts";
import { encryptedPdf, makePdf } from "./_pdfs.ts";

function dataUrl(type: string, bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `data:${type};base64,${btoa(binary)}`;
}

/** The events of an SSE body, in order. */
async function readEvents(response: Response): Promise<{ event: string; data: unknown }[]> {
  const text = await response.text();
  return text.split("\n\n").filter((block) => block.trim()).map((block) => {
    const event = /^event: (.*)$/m.exec(block)![1];
    const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]);
    return { event, data };
  });
}

async function withServer(body: (url: string, handler: ServerHandler) => Promise<void>) {
  const model = await loadModel(TINY_MODEL);
  const handler = createServerHandler(model, { maxNewTokens: 6, documents: documentsRoute });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, handler.handle);
  try {
    await body(`http://127.0.0.1:${server.addr.port}/v1/documents`, handler);
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

Deno.test("POST /v1/documents streams one page event per page, then the document", async () => {
  const pdf = await makePdf([
    { width: 30, height: 30 },
    { width: 40, height: 20 },
    { width: 30, height: 30 },
  ]);
  await withServer(async (url) => {
    const response = await post(url, {
      document: dataUrl("application/pdf", pdf),
      pages: "2-3",
      to: "doctags",
      max_tokens: 4,
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const events = await readEvents(response);
    assert.deepEqual(events.map((e) => e.event), ["document", "page", "page", "done"]);
    assert.deepEqual(events[0].data, { kind: "pdf", source_pages: 3, pages: [2, 3] });
    const pages = events.slice(1, 3).map((e) => e.data as Record<string, unknown>);
    assert.deepEqual(pages.map((p) => p.pageNo), [2, 3]);
    assert.deepEqual(pages[0].size, { width: 40, height: 20 });
    assert.deepEqual(pages[0].raster, { width: 80, height: 40 });
    for (const page of pages) assert.ok((page.tokens as number) <= 4);
    const done = events[3].data as { to: string; output: string; pages: unknown[] };
    assert.equal(done.to, "doctags");
    assert.equal(done.pages.length, 2);
    assert.equal(done.output.split("<page_break>").length, 2);
  });
});

Deno.test("POST /v1/documents takes page images and returns the DoclingDocument for json", async () => {
  const png = await Deno.readFile(new URL("../fixtures/images/sources/tiny.png", import.meta.url));
  await withServer(async (url) => {
    const response = await post(url, { images: [dataUrl("image/png", png)], to: "json" });
    const events = await readEvents(response);
    assert.deepEqual(events.map((e) => e.event), ["document", "page", "done"]);
    assert.equal((events[0].data as { kind: string }).kind, "images");
    const output = (events[2].data as { output: { schema_name?: string } }).output;
    assert.equal(typeof output, "object");
    assert.equal(output.schema_name, "DoclingDocument");
  });
});

Deno.test("POST /v1/documents: bad input is a 4xx JSON error before any event", async () => {
  const pdf = await makePdf([{ width: 30, height: 30 }]);
  await withServer(async (url) => {
    const cases: [unknown, number, string, RegExp][] = [
      [{ document: dataUrl("application/pdf", encryptedPdf()) }, 400, "input_invalid", /encrypted/],
      [{ document: dataUrl("application/pdf", pdf), pages: "2" }, 400, "input_invalid", /past/],
      [
        { document: dataUrl("application/pdf", pdf), max_tokens: 99 },
        400,
        "input_invalid",
        /limit of 6/,
      ],
      [
        { document: dataUrl("application/pdf", pdf), to: "pdf" },
        400,
        "input_invalid",
        /to must be/,
      ],
      [{ document: dataUrl("application/pdf", pdf), size: 1 }, 400, "input_invalid", /"size"/],
      [{}, 400, "input_invalid", /either document/],
      [{ document: "not a url" }, 400, "input_invalid", /data: URL/],
      [
        { document: dataUrl("text/plain", new TextEncoder().encode("hi")) },
        415,
        "image_unsupported",
        /not a PDF/,
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const response = await post(url, body);
      const json = await response.json();
      assert.equal(response.status, status, JSON.stringify(json));
      assert.equal(json.error.code, code);
      assert.match(json.error.message, message);
      assert.ok(json.error.fix);
    }
  });
});

Deno.test("POST /v1/documents: a client that leaves stops the conversion and frees the slot", async () => {
  const pdf = await makePdf(Array.from({ length: 300 }, () => ({ width: 30, height: 30 })));
  await withServer(async (url, handler) => {
    const response = await post(url, { document: dataUrl("application/pdf", pdf), max_tokens: 6 });
    const reader = response.body!.getReader();
    let seen = "";
    while (!seen.includes("event: page")) {
      seen += new TextDecoder().decode((await reader.read()).value);
    }
    await reader.cancel();
    // The running page finishes, then the conversion stops and releases the generation slot
    // (300 pages would keep it for many seconds).
    for (let i = 0; i < 100 && handler.stats().active > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(handler.stats(), { active: 0, waiting: 0, aborted: 1 });
    // The slot is free: the next request runs.
    const next = await post(url, { document: dataUrl("application/pdf", pdf), pages: "1" });
    const events = await readEvents(next);
    assert.deepEqual(events.map((e) => e.event), ["document", "page", "done"]);
  });
});

Deno.test("POST /v1/documents: the done event carries the picture crops as data: URLs", async () => {
  // A fake DocTags model, so the page places a <picture> on the red rectangle: 400x200 px,
  // rectangle at pixels 20..120 x 120..180.
  const pdf = await makePdf([{
    width: 200,
    height: 100,
    boxes: [{ x: 10, y: 10, width: 50, height: 30, color: [255, 0, 0] }],
  }]);
  const model = fakeModel(() => ({
    text: "<doctag><picture><loc_25><loc_300><loc_150><loc_450></picture></doctag>",
    tokenIds: [5, EOS],
    finishReason: "stop_string",
  }));
  const response = await documentsRoute({
    model,
    maxNewTokens: 8,
    images: { allowRemote: false, maxBytes: 1_000_000 },
    maxPixels: 1_000_000,
    timeout: AbortSignal.timeout(60_000),
    admit: () => Promise.resolve(() => {}),
    onDisconnect: () => {},
  }, { document: dataUrl("application/pdf", pdf), to: "md" });
  const events = await readEvents(response);
  const done = events.at(-1)!.data as {
    output: string;
    pictures: { path: string; page_no: number; size: unknown; data_url: string }[];
  };
  assert.match(done.output, /!\[Image\]\(pictures\/page-001-picture-01\.png\)/);
  assert.equal(done.pictures.length, 1);
  const [picture] = done.pictures;
  assert.equal(picture.path, "pictures/page-001-picture-01.png");
  assert.equal(picture.page_no, 1);
  assert.deepEqual(picture.size, { width: 100, height: 60 });
  const png = Uint8Array.from(atob(picture.data_url.split(",")[1]), (c) => c.charCodeAt(0));
  const crop = decodeImage(png);
  assert.deepEqual([crop.width, crop.height], [100, 60]);
  assert.deepEqual(Array.from(crop.data.subarray(0, 3)), [255, 0, 0]);
});

Deno.test("POST /v1/documents is 404 with a fix when the server was made without the route", async () => {
  const model = await loadModel(TINY_MODEL);
  try {
    const handler = createServerHandler(model);
    const response = await handler.handle(
      new Request("http://localhost/v1/documents", { method: "POST", body: "{}" }),
    );
    assert.equal(response.status, 404);
    const body = await response.json();
    assert.match(body.error.message, /does not convert documents/);
    assert.match(body.error.fix, /documentsRoute/);
  } finally {
    await model.dispose();
  }
});
