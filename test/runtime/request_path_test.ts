// The request path's pure first step against the token accounting of src/tokens/, and the
// promise that a request which cannot fit is refused before any encoder runs.
import assert from "node:assert/strict";
import fc from "fast-check";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { decodeImage } from "../../src/image/decode.ts";
import type { Encoder, FeatureMatrix, KvCache } from "../../src/modules/types.ts";
import { FUSED_PROJECTOR } from "../../src/modules/types.ts";
import { VlmModel } from "../../src/runtime/model.ts";
import { describeModelFolder } from "../../src/runtime/model_spec.ts";
import { openModelFolder } from "../../src/runtime/model_folder.ts";
import { preparePrompt, promptIds } from "../../src/runtime/request/prepare.ts";
import { resolve } from "../../src/spec/resolve.ts";
import type { ChatMessage } from "../../src/text/messages.ts";
import { countSequence } from "../../src/tokens/sequence.ts";
import { planTiles } from "../../src/tokens/tiles.ts";
import { TINY_MODEL } from "./_tiny_model.ts";

const described = await describeModelFolder(openModelFolder(TINY_MODEL), {});
const plan = resolve(described.spec);
const context = { plan, tokenizer: described.tokenizer, template: described.template };

const SOURCES = new URL("../fixtures/images/sources/", import.meta.url);
const IMAGES = await Promise.all(
  ["tiny.png", "checker.png", "rgb_noise.png", "wide_strip.png", "text_lines.png"].map(
    async (name) => {
      const bytes = await Deno.readFile(new URL(name, SOURCES));
      const { width, height } = decodeImage(bytes);
      return { bytes, size: { width, height } };
    },
  ),
);

const words = fc.array(fc.stringMatching(/^[a-z]{1,9}[?.,]?$/), { minLength: 0, maxLength: 40 })
  .map((w) => w.join(" "));
const sizes = fc.array(
  fc.record({ width: fc.integer({ min: 1, max: 400 }), height: fc.integer({ min: 1, max: 400 }) }),
  { maxLength: 3 },
);
const split = fc.option(fc.boolean(), { nil: undefined });

function userTurn(images: number, text: string): ChatMessage[] {
  const parts = Array.from({ length: images }, () => ({ type: "image" as const }));
  return [{ role: "user", content: [...parts, { type: "text", text }] }];
}

Deno.test("prepare: prompt tokens = text tokens + image tokens, as src/tokens/ counts them", () => {
  fc.assert(
    fc.property(sizes, words, split, (images, text, splitting) => {
      const plans = images.map((s) =>
        planTiles(s.width, s.height, plan.spec.image, { split: splitting })
      );
      const prompt = promptIds(context, userTurn(images.length, text), plans);
      const counted = countSequence(plan, {
        images,
        prompt: text,
        split: splitting,
        counter: described.tokenizer,
      });
      assert.equal(prompt.imageTokens, counted.imageTokens);
      assert.equal(prompt.imageTokens, plans.reduce((n, p) => n + p.tiles, 0) * plan.tokensPerTile);
      assert.equal(prompt.ids.length, counted.textTokens + counted.imageTokens);
    }),
    { numRuns: 150 },
  );
});

Deno.test("prepare: a prompt is refused exactly when it and maxNewTokens exceed the context", () => {
  fc.assert(
    fc.property(sizes, words, fc.integer({ min: 1, max: 700 }), (images, text, maxNewTokens) => {
      const plans = images.map((s) => planTiles(s.width, s.height, plan.spec.image));
      const messages = userTurn(images.length, text);
      const length = promptIds(context, messages, plans).ids.length;
      const fits = length + maxNewTokens <= plan.decoder.contextLength;
      try {
        const prompt = preparePrompt(context, messages, plans, { maxNewTokens });
        assert.ok(fits, `accepted ${length} + ${maxNewTokens}`);
        assert.equal(prompt.ids.length, length);
      } catch (error) {
        assert.ok(error instanceof VlmError && error.code === "budget_unsatisfiable", `${error}`);
        assert.ok(!fits, `refused ${length} + ${maxNewTokens}`);
        const room = plan.decoder.contextLength - length;
        if (room > 0) assert.match(error.fix!, new RegExp(`maxNewTokens to ${room} or less`));
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("prepare: with fitContext the limit shrinks to the room the prompt leaves", () => {
  fc.assert(
    fc.property(sizes, words, fc.integer({ min: 1, max: 700 }), (images, text, maxNewTokens) => {
      const plans = images.map((s) => planTiles(s.width, s.height, plan.spec.image));
      const messages = userTurn(images.length, text);
      const room = plan.decoder.contextLength - promptIds(context, messages, plans).ids.length;
      try {
        const prompt = preparePrompt(context, messages, plans, { maxNewTokens, fitContext: true });
        assert.equal(prompt.maxNewTokens, Math.min(maxNewTokens, room));
      } catch (error) {
        assert.ok(error instanceof VlmError && error.code === "budget_unsatisfiable", `${error}`);
        assert.ok(room < 1, `refused with room ${room}`);
      }
    }),
    { numRuns: 200 },
  );
});

/** A model over fake modules: an encoder that counts its calls, a decoder that says EOS. */
function countingModel() {
  const hidden = plan.spec.decoder.hidden;
  const vocab = described.tokenizer.vocabSize;
  const eos = plan.spec.tokens.eosIds[0];
  const calls = { encoder: 0, decoder: 0 };
  const encoder: Encoder = {
    encode(pixels) {
      calls.encoder++;
      const rows = pixels.tiles * plan.tokensPerTile;
      return Promise.resolve({ rows, cols: hidden, data: new Float32Array(rows * hidden) });
    },
  };
  const cache = (length: number): KvCache => ({ length, truncate: (n) => cache(n) });
  const model = new VlmModel({
    plan,
    tokenizer: described.tokenizer,
    template: described.template,
    backend: { name: "wasm" },
    sessions: [],
    encoder,
    projector: FUSED_PROJECTOR,
    embedder: {
      embed: (ids): Promise<FeatureMatrix> =>
        Promise.resolve({
          rows: ids.length,
          cols: hidden,
          data: new Float32Array(ids.length * hidden),
        }),
    },
    decoder: {
      emptyCache: () => cache(0),
      step(embeds, past) {
        calls.decoder++;
        const logits = new Float32Array(vocab);
        logits[eos] = 1;
        return Promise.resolve({ logits, cache: cache(past.length + embeds.rows) });
      },
    },
    loadMs: 0,
    featureCacheSize: 0,
    reusePrefix: false,
  });
  return { model, calls };
}

Deno.test("a request over the budget never reaches the encoder (or the decoder)", async () => {
  const { model, calls } = countingModel();
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: IMAGES.length - 1 }), { minLength: 1, maxLength: 3 }),
        words,
        fc.integer({ min: 1, max: 700 }),
        async (picked, text, maxNewTokens) => {
          const images = picked.map((i) => IMAGES[i]);
          const counted = countSequence(plan, {
            images: images.map((i) => i.size),
            prompt: text,
            counter: described.tokenizer,
          });
          const fits = counted.totalTokens + maxNewTokens <= plan.decoder.contextLength;
          const before = { ...calls };
          const request = { prompt: text, images: images.map((i) => i.bytes), maxNewTokens };
          if (fits) {
            const result = await model.generate(request);
            assert.equal(result.promptTokens, counted.totalTokens);
            assert.equal(calls.encoder, before.encoder + 1);
          } else {
            await assert.rejects(
              model.generate(request),
              (e: unknown) => e instanceof VlmError && e.code === "budget_unsatisfiable",
            );
            assert.deepEqual(calls, before, "a refused request ran a module");
          }
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    await model.dispose();
  }
});
