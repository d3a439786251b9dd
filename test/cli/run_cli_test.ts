/** `vlm run` as users run it: a real subprocess with the task's permissions. */
import assert from "node:assert/strict";
import { type CliOutput, runVlm } from "./_vlm.ts";

const MODEL = new URL("../fixtures/tiny-idefics3/", import.meta.url).pathname;
const IMAGES = new URL("../fixtures/images/", import.meta.url).pathname;

function vlm(...args: string[]): Promise<CliOutput> {
  return runVlm(["--allow-read", "--allow-write", "--allow-env", "--allow-ffi"], args);
}

const common = [
  "--model",
  MODEL,
  "--image",
  `${IMAGES}sources/rgb_noise.png`,
  "--prompt",
  "What shape is this?",
];

Deno.test("cli: run --json follows the DESIGN §4 contract and --dump-inputs writes the tensors", async () => {
  const dump = await Deno.makeTempDir();
  try {
    const { code, stdout, stderr } = await vlm(
      "run",
      ...common,
      "--max-new-tokens",
      "8",
      "--dump-inputs",
      dump,
      "--json",
    );
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.deepEqual(Object.keys(result).sort(), [
      "imagePlan",
      "imageTokens",
      "peakRssBytes",
      "promptTokens",
      "text",
      "timings",
      "tokenIds",
    ]);
    assert.deepEqual(Object.keys(result.timings).sort(), [
      "decodeTokensPerSec",
      "loadMs",
      "prefillMs",
      "preprocessMs",
      "ttftMs",
      "visionMs",
    ]);
    assert.ok(result.tokenIds.length >= 1 && result.tokenIds.length <= 8);
    assert.equal(result.imageTokens, 20); // 2×2 tiles + global, 4 tokens each
    // The wasm default budget (5 tiles an image) is reported, and this plan is within it.
    assert.deepEqual(
      { tiles: result.imagePlan.tiles, maxTiles: result.imagePlan.maxTiles },
      { tiles: 5, maxTiles: 5 },
    );
    assert.ok(result.peakRssBytes > 0);

    const shapes = JSON.parse(await Deno.readTextFile(`${dump}/shapes.json`));
    assert.deepEqual(shapes.pixel_values, [1, 5, 3, 32, 32]);
    assert.deepEqual(shapes.input_ids, [1, result.promptTokens]);
    assert.equal((await Deno.stat(`${dump}/input_ids.bin`)).size, result.promptTokens * 8);
    assert.equal((await Deno.stat(`${dump}/pixel_values.bin`)).size, 5 * 3 * 32 * 32 * 4);
    assert.equal((await Deno.stat(`${dump}/pixel_attention_mask.bin`)).size, 5 * 32 * 32);
    const leftovers = [...Deno.readDirSync(dump)].filter((e) => e.name.endsWith(".tmp"));
    assert.deepEqual(leftovers, []);
  } finally {
    await Deno.remove(dump, { recursive: true });
  }
});

Deno.test("cli: run streams text without --json; native backend gives the same tokens", async () => {
  const wasm = await vlm("run", ...common, "--max-new-tokens", "6", "--json");
  const native = await vlm(
    "run",
    ...common,
    "--max-new-tokens",
    "6",
    "--backend",
    "native",
    "--json",
  );
  assert.equal(native.code, 0, native.stderr);
  assert.deepEqual(JSON.parse(native.stdout).tokenIds, JSON.parse(wasm.stdout).tokenIds);
  const streamed = await vlm("run", ...common, "--max-new-tokens", "6");
  assert.equal(streamed.code, 0, streamed.stderr);
  // Both start at the first visible character (the model's leading space token is dropped).
  assert.equal(streamed.stdout.replace(/\n$/, ""), JSON.parse(wasm.stdout).text);
  assert.doesNotMatch(streamed.stdout, /^\s/);
  assert.match(streamed.stderr, /6 tokens, max_tokens/);
});

Deno.test("cli: run reports bad input with exit codes and typed JSON errors", async () => {
  const usage = await vlm("run", "--image", "x.png", "--prompt", "hi");
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--model is required/);

  const badFlag = await vlm("run", ...common, "--max-new-tokens", "many");
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--max-new-tokens must be an integer/);

  const missing = await vlm("run", "--model", "/nonexistent/model", "--prompt", "hi", "--json");
  assert.equal(missing.code, 1);
  assert.equal(JSON.parse(missing.stdout).error.code, "model_invalid");

  const badImage = await vlm(
    "run",
    "--model",
    MODEL,
    "--image",
    `${IMAGES}bad/truncated.jpg`,
    "--prompt",
    "hi",
    "--json",
  );
  assert.equal(badImage.code, 1);
  const error = JSON.parse(badImage.stdout).error;
  assert.equal(error.code, "image_invalid");
  assert.ok(error.fix);

  const help = await vlm("run", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--dump-inputs DIR/);
});
