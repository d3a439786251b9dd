// Generation behaviour on the tiny export (wasm backend): streaming, stop
// strings, stop ids, the feature cache, KV prefix reuse, abort and input errors.
import assert from "node:assert/strict";
import { loadModel } from "../../src/runtime/load_model.ts";
import type { VlmModel } from "../../src/runtime/model.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { TINY_MODEL } from "./_tiny_model.ts";

const IMAGES = new URL("../fixtures/images/", import.meta.url);
const image = (name: string) => new URL(`sources/${name}`, IMAGES).pathname;

async function withModel(fn: (model: VlmModel) => Promise<void>, reusePrefix = true) {
  const model = await loadModel(TINY_MODEL, { reusePrefix });
  try {
    await fn(model);
  } finally {
    await model.dispose();
  }
}

const base = { prompt: "What shape is this?", images: [image("rgb_noise.png")], stopTokenIds: [] };

Deno.test("stream: text chunks and tokens add up to the result", async () => {
  await withModel(async (model) => {
    const stream = model.stream({ ...base, maxNewTokens: 24 });
    const tokens: number[] = [];
    const reading = (async () => {
      for await (const token of stream.tokens()) tokens.push(token.id);
    })();
    let text = "";
    for await (const chunk of stream) text += chunk;
    await reading;
    const result = await stream.result;
    assert.equal(text, result.text);
    assert.deepEqual(tokens, result.tokenIds);
    assert.equal(result.tokenIds.length, 24);
    assert.equal(result.finishReason, "max_tokens");
    // Same request through generate(): identical greedy output.
    const again = await model.generate({ ...base, maxNewTokens: 24, reusePrefix: false });
    assert.deepEqual(again.tokenIds, result.tokenIds);
  });
});

Deno.test("stop strings cut the text; stop ids end generation with the id included", async () => {
  await withModel(async (model) => {
    const free = await model.generate({ ...base, maxNewTokens: 30 });
    const words = free.text.split(" ").filter((w) => /^[a-z]{3,}$/.test(w));
    assert.ok(words.length > 0, `no word to stop on in ${JSON.stringify(free.text)}`);
    const stop = ` ${words[0]}`;
    const cut = await model.generate({ ...base, maxNewTokens: 30, stopStrings: [stop] });
    assert.equal(cut.finishReason, "stop_string");
    assert.equal(cut.text, free.text.slice(0, free.text.indexOf(stop)));
    assert.ok(cut.tokenIds.length < free.tokenIds.length);

    const stopId = free.tokenIds[5];
    const byId = await model.generate({ ...base, maxNewTokens: 30, stopTokenIds: [stopId] });
    assert.equal(byId.finishReason, "eos");
    assert.deepEqual(byId.tokenIds, free.tokenIds.slice(0, free.tokenIds.indexOf(stopId) + 1));
  });
});

Deno.test("a second question about the same image skips the encoder and reuses the KV prefix", async () => {
  await withModel(async (model) => {
    const first = await model.generate({ ...base, maxNewTokens: 8 });
    assert.equal(first.cachedImages, 0);
    assert.ok(first.timings.visionMs > 0);
    const second = await model.generate({
      prompt: "How many shapes are there?",
      images: [image("rgb_noise.png")],
      maxNewTokens: 8,
      stopTokenIds: [],
    });
    assert.equal(second.cachedImages, 1);
    assert.equal(second.timings.visionMs, 0);
    // Everything up to the question text is shared: template start and the image block.
    assert.ok(second.reusedPrefixTokens >= second.imageTokens, `${second.reusedPrefixTokens}`);

    // Same answer as a cold model without reuse.
    await withModel(async (cold) => {
      const reference = await cold.generate({
        prompt: "How many shapes are there?",
        images: [image("rgb_noise.png")],
        maxNewTokens: 8,
        stopTokenIds: [],
      });
      assert.equal(reference.reusedPrefixTokens, 0);
      assert.deepEqual(second.tokenIds, reference.tokenIds);
    }, false);

    // clearCaches() forgets both: the third request encodes the image and prefills afresh.
    await model.clearCaches();
    const third = await model.generate({ ...base, maxNewTokens: 8 });
    assert.equal(third.cachedImages, 0);
    assert.equal(third.reusedPrefixTokens, 0);
    assert.ok(third.timings.visionMs > 0);
    assert.deepEqual(third.tokenIds, first.tokenIds);
  });
});

Deno.test("the same question about a different image reuses only the text before the image", async () => {
  // Both prompts have identical ids (every image is spelled with the same
  // placeholder tokens), but the image features differ: the cache must not be
  // reused across the image tokens.
  const ask = (name: string) => ({
    prompt: "What shape is this?",
    images: [image(name)],
    maxNewTokens: 8,
    stopTokenIds: [],
  });
  await withModel(async (model) => {
    await model.generate(ask("tiny.png"));
    const second = await model.generate(ask("rgb_noise.png"));
    assert.ok(second.reusedPrefixTokens > 0, "the template start is shared");
    const inputs = await model.prepareInputs(ask("rgb_noise.png"));
    const firstImageToken = inputs.inputIds.indexOf(model.plan.spec.tokens.image.id!);
    assert.ok(
      second.reusedPrefixTokens <= firstImageToken,
      `${second.reusedPrefixTokens} > ${firstImageToken}`,
    );
    await withModel(async (cold) => {
      assert.deepEqual(second.tokenIds, (await cold.generate(ask("rgb_noise.png"))).tokenIds);
    }, false);
  });
});

Deno.test("multi-image, multi-turn conversations place each image where its part is", async () => {
  await withModel(async (model) => {
    const result = await model.generate({
      messages: [
        {
          role: "user",
          content: [{ type: "image" }, { type: "text", text: "What color is the shape?" }],
        },
        { role: "assistant", content: "red" },
        { role: "user", content: [{ type: "text", text: "And here?" }, { type: "image" }] },
      ],
      images: [image("rgb_noise.png"), image("tiny.png")],
      maxNewTokens: 4,
      split: false,
    });
    // Unsplit: 4 tokens per image.
    assert.equal(result.imageTokens, 8);
    const inputs = await model.prepareInputs({
      messages: [{
        role: "user",
        content: [{ type: "image" }, { type: "image" }, { type: "text", text: "x" }],
      }],
      images: [image("rgb_noise.png"), image("wide_strip.png")],
    });
    assert.equal(inputs.tiles, 5 + 3);
  });
});

Deno.test("abort mid-generation rejects promptly and leaves the model usable", async () => {
  await withModel(async (model) => {
    const controller = new AbortController();
    const stream = model.stream({ ...base, maxNewTokens: 400, signal: controller.signal });
    let seen = 0;
    const started = performance.now();
    await assert.rejects(
      (async () => {
        for await (const _ of stream.tokens()) if (++seen === 3) controller.abort();
      })(),
      (e: unknown) => e instanceof DOMException && e.name === "AbortError",
    );
    assert.ok(seen < 10, `generation went on for ${seen} tokens after abort`);
    assert.ok(performance.now() - started < 5000);
    // Cancelling the text stream aborts too.
    const cancelled = model.stream({ ...base, maxNewTokens: 400 });
    const reader = cancelled.getReader();
    await reader.read();
    await reader.cancel();
    assert.equal((await cancelled.result).finishReason, "aborted");
    const after = await model.generate({ ...base, maxNewTokens: 3 });
    assert.equal(after.tokenIds.length, 3);
  });
});

Deno.test("an aborted stream's result holds exactly the text streamed before the abort", async () => {
  await withModel(async (model) => {
    const controller = new AbortController();
    const stream = model.stream({ ...base, maxNewTokens: 400, signal: controller.signal });
    const ids: number[] = [];
    let streamed = "";
    await assert.rejects(
      (async () => {
        for await (const token of stream.tokens()) {
          ids.push(token.id);
          streamed += token.text;
          if (ids.length === 5) controller.abort();
        }
      })(),
      (e: unknown) => e instanceof DOMException && e.name === "AbortError",
    );
    const result = await stream.result;
    assert.equal(result.finishReason, "aborted");
    assert.ok(result.tokenIds.length >= 5 && result.tokenIds.length < 400);
    assert.deepEqual(result.tokenIds, ids);
    assert.equal(result.text, streamed);
    assert.ok(result.promptTokens > result.imageTokens);
    // generate() with the same signal rejects with its reason instead.
    await assert.rejects(
      model.generate({ ...base, maxNewTokens: 4, signal: controller.signal }),
      (e: unknown) => e instanceof DOMException && e.name === "AbortError",
    );
    // A stream aborted before it starts resolves with nothing produced.
    const early = await model.stream({ ...base, maxNewTokens: 4, signal: controller.signal })
      .result;
    assert.equal(early.finishReason, "aborted");
    assert.deepEqual(early.tokenIds, []);
  });
});

Deno.test("bad requests get typed errors", async () => {
  await withModel(async (model) => {
    const code = (c: string) => (e: unknown) => e instanceof VlmError && e.code === c;
    await assert.rejects(model.generate({ ...base, maxNewTokens: 0 }), code("input_invalid"));
    await assert.rejects(
      model.generate({ ...base, maxNewTokens: 500 }),
      code("budget_unsatisfiable"),
    );
    await assert.rejects(
      model.generate({
        messages: [{ role: "user", content: [{ type: "image" }, { type: "text", text: "?" }] }],
        images: [],
        maxNewTokens: 4,
      }),
      code("input_invalid"),
    );
    await assert.rejects(
      model.generate({ ...base, images: [image("../bad/truncated.png")], maxNewTokens: 4 }),
      code("image_invalid"),
    );
    await assert.rejects(
      model.generate({ ...base, images: [image("../bad/fake.gif")], maxNewTokens: 4 }),
      code("image_unsupported"),
    );
    await assert.rejects(
      model.generate({ ...base, topP: 2, maxNewTokens: 4 }),
      code("input_invalid"),
    );
    // Every problem of a request is reported at once, each with its path and fix.
    await assert.rejects(
      model.generate({
        prompt: "?",
        messages: [{ role: "user", content: "?" }],
        maxNewTokens: 0,
        temperature: -1,
        topP: 2,
        stopTokenIds: [1.5],
      }),
      (e: unknown) => {
        assert.ok(e instanceof VlmError && e.code === "input_invalid");
        assert.deepEqual(e.issues.map((i) => i.path), [
          "maxNewTokens",
          "temperature",
          "topP",
          "stopTokenIds.0",
          "prompt",
        ]);
        assert.ok(e.issues.every((i) => i.fix));
        for (const path of ["maxNewTokens", "temperature", "topP", "prompt"]) {
          assert.match(e.message, new RegExp(`- ${path}:`));
        }
        return true;
      },
    );
  });
});
