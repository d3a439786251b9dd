// The video plugin: SmolVLM2 frame sampling, the timestamped prompt, one
// unsplit tile per frame, and the token budget enforced before running.
import assert from "node:assert/strict";
import fc from "fast-check";
import { video } from "../../plugins/video/mod.ts";
import {
  minutesSeconds,
  numberWords,
  sampleFrameIndices,
} from "../../plugins/video/frame_sampling.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { TINY_MODEL } from "../runtime/_tiny_model.ts";

const SOURCES = ["checker.png", "tiny.png", "grey.png", "rgb_noise.png", "wide_strip.png"].map((
  name,
) => new URL(`../fixtures/images/sources/${name}`, import.meta.url).pathname);
const frames = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ image: SOURCES[i % SOURCES.length], time: i }));

Deno.test("video: frame sampling keeps at most maxFrames sorted, distinct, in-range indices", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 3000 }),
    fc.double({ min: 0.1, max: 600, noNaN: true }),
    fc.constantFrom(0.5, 1, 2),
    fc.integer({ min: 1, max: 64 }),
    (total, duration, fps, maxFrames) => {
      const indices = sampleFrameIndices(total, duration, fps, maxFrames);
      assert.ok(indices.length >= 1 && indices.length <= Math.min(maxFrames, total));
      for (let i = 0; i < indices.length; i++) {
        assert.ok(indices[i] >= 0 && indices[i] < total);
        if (i > 0) assert.ok(indices[i] > indices[i - 1]);
      }
    },
  ));
});

Deno.test("video: sampling follows SmolVLM2 (round(fps·duration) frames, 1 s skipped at both ends of long videos)", () => {
  // 10 s at 30 native fps, 1 fps wanted: 10 frames spread over the whole clip.
  assert.deepEqual(sampleFrameIndices(300, 10, 1, 64), [
    0,
    33,
    66,
    99,
    132,
    166,
    199,
    232,
    265,
    299,
  ]);
  // 100 s, 64 frames max: the first and last second are skipped (start at 30, end at 2970).
  const long = sampleFrameIndices(3000, 100, 1, 64);
  assert.equal(long.length, 64);
  assert.equal(long[0], 30);
  assert.equal(long[63], 2970);
  assert.equal(numberWords(64), "sixty-four");
  assert.equal(numberWords(10), "ten");
  assert.equal(numberWords(105), "one hundred and five");
  assert.equal(minutesSeconds(75.9), "01:15");
});

Deno.test("video: frames become timestamped unsplit image blocks and the task runs", async () => {
  const model = await loadModel(TINY_MODEL, { plugins: [video({ maxNewTokens: 4 })] });
  try {
    const plugin = video();
    const context = { plan: model.plan, tokenizer: model.tokenizer };
    const prompt = plugin.hooks.prompt!({
      frames: frames(10),
      prompt: "What happens?",
      maxNewTokens: 4,
    }, context);
    const inputs = await model.prepareInputs({
      messages: prompt.messages,
      images: prompt.images,
      split: false,
    });
    const text = model.tokenizer.decode(inputs.inputIds, false);
    assert.match(
      text,
      /You are provided the following series of ten frames from a 0:00:10 \[H:MM:SS\] video\.\n/,
    );
    assert.match(
      text,
      /\nFrame from 00:03:<fake_token_around_image><global-img>(<image>){4}<fake_token_around_image>/,
    );
    assert.match(
      text,
      /<fake_token_around_image>\n\nWhat happens\?<end_of_utterance>\nAssistant:$/,
    );
    assert.equal(inputs.tiles, 10); // one tile per frame

    const result = await model.task<{ answer: string; frameTimes: number[] }>("video", {
      frames: frames(10),
      prompt: "What happens?",
      maxNewTokens: 4,
    });
    assert.deepEqual(result.output.frameTimes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(result.tokenIds.length <= 4);
  } finally {
    await model.dispose();
  }
});

Deno.test("video: the token budget thins frames before running, and fails when one frame cannot fit", async () => {
  const model = await loadModel(TINY_MODEL, { plugins: [video()] });
  try {
    const context = model.plan.decoder.contextLength; // 512 for the tiny model
    const thinned = await model.task<{ frameTimes: number[] }>("video", {
      frames: frames(60),
      prompt: "What happens?",
      maxNewTokens: context - 200,
    });
    assert.ok(thinned.output.frameTimes.length < 60 && thinned.output.frameTimes.length >= 1);
    await assert.rejects(
      () =>
        model.task("video", {
          frames: frames(5),
          prompt: "What happens?",
          maxNewTokens: context - 4,
        }),
      (e: unknown) => e instanceof VlmError && e.code === "budget_unsatisfiable",
    );
    await assert.rejects(
      () => model.task("video", { prompt: "x" }),
      (e: unknown) =>
        e instanceof VlmError && e.code === "input_invalid" && /needs frames/.test(e.message),
    );
  } finally {
    await model.dispose();
  }
});
