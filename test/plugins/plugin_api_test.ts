// The task-plugin API on a real model: hook order, error attribution, model
// state after a failing hook, option and output validation, built-ins.
import assert from "node:assert/strict";
import { z } from "zod";
import { caption } from "../../plugins/caption/mod.ts";
import { choice } from "../../plugins/examples/choice/mod.ts";
import { ocr } from "../../plugins/ocr/mod.ts";
import { vqa } from "../../plugins/vqa/mod.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import type { TaskPlugin } from "../../src/plugins/types.ts";
import { userTurn } from "../../src/plugins/user_turn.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { TINY_MODEL } from "../runtime/_tiny_model.ts";

const IMAGE = new URL("../fixtures/images/sources/checker.png", import.meta.url).pathname;

function recorder(log: string[], failIn?: string): TaskPlugin<{ length: number }> {
  const hit = (hook: string) => {
    log.push(hook);
    if (hook === failIn) throw new Error(`boom in ${hook}`);
  };
  return {
    name: "recorder",
    maxNewTokens: 3,
    output: z.object({ length: z.number() }),
    hooks: {
      prompt: (input) => (hit("prompt"), userTurn(input.images ?? [], "Describe.")),
      stop: () => (hit("stop"), {}),
      preprocess: (request) => (hit("preprocess"), { ...request, stopTokenIds: [] }),
      logitsProcessor: () => {
        hit("logitsProcessor:create");
        return () => hit("logitsProcessor");
      },
      onToken: () => hit("onToken"),
      postprocess: (text) => (hit("postprocess"), { length: text.length }),
    },
  };
}

Deno.test("plugins: hooks run in the documented order, per step logits before onToken", async () => {
  const log: string[] = [];
  const model = await loadModel(TINY_MODEL, { plugins: [recorder(log)] });
  try {
    const result = await model.task<{ length: number }>("recorder", { images: [IMAGE] });
    assert.equal(result.tokenIds.length, 3);
    assert.equal(result.output.length, result.text.length);
    assert.deepEqual(log, [
      "prompt",
      "stop",
      "preprocess",
      "logitsProcessor:create",
      "logitsProcessor",
      "onToken",
      "logitsProcessor",
      "onToken",
      "logitsProcessor",
      "onToken",
      "postprocess",
    ]);
  } finally {
    await model.dispose();
  }
});

Deno.test("plugins: a failing hook is named, wrapped as plugin_failed, and leaves the model usable", async () => {
  const model = await loadModel(TINY_MODEL, { plugins: [recorder([], "logitsProcessor")] });
  try {
    const request = { prompt: "Describe.", images: [IMAGE], maxNewTokens: 4, stopTokenIds: [] };
    const before = await model.generate(request);
    await assert.rejects(
      () => model.task("recorder", { images: [IMAGE] }),
      (e: unknown) =>
        e instanceof VlmError && e.code === "plugin_failed" &&
        /plugin "recorder" failed in its logitsProcessor hook: boom/.test(e.message),
    );
    const after = await model.generate(request);
    assert.deepEqual(after.tokenIds, before.tokenIds);
  } finally {
    await model.dispose();
  }
  for (const hook of ["prompt", "preprocess", "onToken", "postprocess"]) {
    const m = await loadModel(TINY_MODEL, { plugins: [recorder([], hook)] });
    try {
      await assert.rejects(
        () => m.task("recorder", { images: [IMAGE] }),
        (e: unknown) => e instanceof VlmError && new RegExp(`in its ${hook} hook`).test(e.message),
      );
    } finally {
      await m.dispose();
    }
  }
});

Deno.test("plugins: registration is explicit; unknown and duplicate tasks are usage errors", async () => {
  const bare = await loadModel(TINY_MODEL);
  try {
    assert.deepEqual(bare.tasks, []);
    await assert.rejects(
      () => bare.task("ocr", { images: [IMAGE] }),
      (e: unknown) =>
        e instanceof VlmError && e.code === "usage" && /plugins: \[ocr\(\)\]/.test(e.fix ?? ""),
    );
  } finally {
    await bare.dispose();
  }
  await assert.rejects(
    () => loadModel(TINY_MODEL, { plugins: [ocr(), ocr()] }),
    (e: unknown) => e instanceof VlmError && /two plugins are named "ocr"/.test(e.message),
  );
});

Deno.test("plugins: options are validated by each factory; outputs by the plugin's schema", async () => {
  assert.throws(
    () => caption({ detail: "long" as "brief" }),
    (e: unknown) =>
      e instanceof VlmError && e.code === "input_invalid" &&
      /plugin "caption": option detail/.test(e.message),
  );
  assert.throws(() => ocr({ maxNewTokens: -1 }), /option maxNewTokens/);
  // Every bad option is named at once.
  assert.throws(
    () => ocr({ maxNewTokens: -1, instruction: "" }),
    (e: unknown) =>
      e instanceof VlmError && e.code === "input_invalid" &&
      e.issues.map((i) => i.path).sort().join() === "option instruction,option maxNewTokens",
  );
  // The factory exposes its options schema; it accepts what the factory accepts.
  assert.equal(caption().optionsSchema!.safeParse({ detail: "detailed" }).success, true);
  assert.equal(caption().optionsSchema!.safeParse({ detail: "long" }).success, false);
  const liar: TaskPlugin<{ n: number }> = {
    name: "liar",
    maxNewTokens: 2,
    output: z.object({ n: z.number() }),
    hooks: { postprocess: () => ({ n: "not a number" }) as unknown as { n: number } },
  };
  const model = await loadModel(TINY_MODEL, { plugins: [liar, vqa()] });
  try {
    await assert.rejects(
      () => model.task("liar", { images: [IMAGE], prompt: "x" }),
      (e: unknown) =>
        e instanceof VlmError && e.code === "plugin_failed" && /output schema/.test(e.message),
    );
    await assert.rejects(
      () => model.task("vqa", { images: [IMAGE] }),
      (e: unknown) =>
        e instanceof VlmError && e.code === "input_invalid" && /needs a question/.test(e.message),
    );
  } finally {
    await model.dispose();
  }
});

Deno.test("plugins: caption, vqa and ocr run end to end with typed results", async () => {
  const model = await loadModel(TINY_MODEL, {
    plugins: [
      caption({ maxSentences: 1, maxNewTokens: 12 }),
      vqa({ style: "short", maxNewTokens: 8 }),
      ocr({ maxNewTokens: 12 }),
    ],
  });
  try {
    const c = await model.task<{ caption: string }>("caption", { images: [IMAGE] });
    assert.equal(typeof c.output.caption, "string");
    assert.ok(c.tokenIds.length <= 12);
    const v = await model.task<{ answer: string }>("vqa", {
      images: [IMAGE],
      prompt: "What shape is this?",
    });
    assert.ok(!v.output.answer.includes("\n"));
    const o = await model.task<{ text: string; lines: string[] }>("ocr", { images: [IMAGE] });
    assert.deepEqual(
      o.output.lines,
      o.output.text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l),
    );
  } finally {
    await model.dispose();
  }
  // OCR forces splitting whatever the request said.
  const request = ocr().hooks.preprocess!({ maxNewTokens: 1, split: false }, {} as never);
  assert.equal(request.split, true);
});

Deno.test("plugins: the example choice plugin constrains every answer to its list", async () => {
  const choices = ["red", "green", "blue", "purple"];
  const model = await loadModel(TINY_MODEL, {
    plugins: [choice({ choices, question: "What color is the shape?" })],
  });
  try {
    for (const image of ["checker.png", "tiny.png", "grey.png", "rgb_noise.png"]) {
      const path = new URL(`../fixtures/images/sources/${image}`, import.meta.url).pathname;
      const result = await model.task<{ choice: string }>("choice", { images: [path] });
      assert.ok(choices.includes(result.output.choice), result.text);
      assert.equal(result.finishReason, "eos");
    }
  } finally {
    await model.dispose();
  }
});
