// Per-step logprobs: a normalised log-softmax, the top ids in order, the chosen id's value.
import assert from "node:assert/strict";
import fc from "fast-check";
import { logSumExp, StepLogprobs, topIds } from "../../src/runtime/token_logprobs.ts";

const logits = fc.array(fc.float({ min: -30, max: 30, noNaN: true }), {
  minLength: 1,
  maxLength: 64,
})
  .map((values) => Float32Array.from(values));

Deno.test("token logprobs: probabilities sum to 1, top ids are the k largest in order (property)", () => {
  fc.assert(fc.property(logits, fc.nat(8), (values, k) => {
    const norm = logSumExp(values);
    const total = values.reduce((sum, v) => sum + Math.exp(v - norm), 0);
    assert.ok(Math.abs(total - 1) < 1e-9);
    const top = topIds(values, k);
    assert.equal(top.length, Math.min(k, values.length));
    const sorted = [...values.keys()].sort((a, b) => values[b] - values[a] || a - b);
    assert.deepEqual(top.map((id) => values[id]), sorted.slice(0, k).map((id) => values[id]));
  }));
});

Deno.test("token logprobs: the chosen id's value is read before the sampler edits the logits", () => {
  const values = Float32Array.from([0, Math.log(3), -Infinity]);
  const step = new StepLogprobs(values, 2);
  values.fill(0); // what a sampler's temperature or penalty might do in place
  const record = step.of(0);
  assert.ok(Math.abs(record.logprob - Math.log(1 / 4)) < 1e-6);
  assert.deepEqual(record.top.map((t) => t.id), [1, 0]);
  assert.ok(Math.abs(record.top[0].logprob - Math.log(3 / 4)) < 1e-6);
});

Deno.test("token logprobs: generate records them only when asked, one per generated token", async () => {
  const { loadModel } = await import("../../src/runtime/load_model.ts");
  const model = await loadModel(new URL("../../models/tiny-smolvlm/", import.meta.url));
  try {
    const request = { prompt: "Say something.", maxNewTokens: 5 };
    const plain = await model.generate(request);
    assert.equal(plain.logprobs, undefined);
    const asked = await model.generate({ ...request, logprobs: 2 });
    assert.deepEqual(asked.tokenIds, plain.tokenIds, "recording does not change the answer");
    assert.deepEqual(asked.logprobs!.map((l) => l.id), asked.tokenIds);
    for (const step of asked.logprobs!) {
      assert.equal(step.top.length, 2);
      // Greedy: the chosen id is the step's most likely one.
      assert.equal(step.top[0].id, step.id);
    }
    await assert.rejects(
      model.generate({ ...request, logprobs: 21 }),
      /logprobs: must be an integer from 0 to 20/,
    );
  } finally {
    await model.dispose();
  }
});
