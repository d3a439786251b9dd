/** `--max-pixels` on the commands that decode images, and the fix the CLI prints for it. */
import assert from "node:assert/strict";
import { readImageHeader } from "../../src/image/sniff.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import type { Command } from "../../tools/cli/command.ts";
import { withCliFix } from "../../tools/cli/max_pixels.ts";
import { type CliOutput, runVlm } from "./_vlm.ts";

const MODEL = new URL("../fixtures/tiny-idefics3/", import.meta.url).pathname;
// 97×131 = 12,707 pixels: over a limit of 10,000, under one of 20,000.
const IMAGE = new URL("../fixtures/images/sources/rgb_noise.png", import.meta.url).pathname;
const VLM = new URL("../../tools/vlm.ts", import.meta.url).pathname;

function vlm(...args: string[]): Promise<CliOutput> {
  return runVlm(["--allow-read", "--allow-write", "--allow-env", "--allow-ffi"], args);
}

function tooLarge(result: CliOutput, command: string): void {
  assert.equal(result.code, 1, result.stderr);
  const { error } = JSON.parse(result.stdout);
  assert.equal(error.code, "image_too_large", result.stdout);
  assert.match(error.message, /97x131/);
  assert.match(error.fix, new RegExp(`vlm ${command} --max-pixels N`));
  assert.doesNotMatch(error.fix, /maxPixels/);
  assert.match(result.stderr, /fix: .*--max-pixels N/);
}

Deno.test("cli: run --max-pixels sets the decode limit, and the fix names the flag", async () => {
  const args = ["run", "--model", MODEL, "--image", IMAGE, "--prompt", "Hi", "--json"];
  tooLarge(await vlm(...args, "--max-pixels", "10000"), "run");
  const fits = await vlm(...args, "--max-pixels", "20000", "--max-new-tokens", "2");
  assert.equal(fits.code, 0, fits.stderr);
  assert.ok(JSON.parse(fits.stdout).imageTokens > 0);
});

Deno.test("cli: task and eval take --max-pixels too", async () => {
  tooLarge(
    await vlm(
      "task",
      "caption",
      "--model",
      MODEL,
      "--image",
      IMAGE,
      "--max-pixels",
      "10000",
      "--json",
    ),
    "task",
  );
  const dir = await Deno.makeTempDir();
  try {
    const labels = `${dir}/labels.jsonl`;
    await Deno.writeTextFile(labels, JSON.stringify({ image: IMAGE, prompt: "Hi", answer: "x" }));
    tooLarge(
      await vlm("eval", "--model", MODEL, "--data", labels, "--max-pixels", "10000", "--json"),
      "eval",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: --max-pixels must be a positive integer", async () => {
  for (const bad of ["0", "-5", "1.5", "many"]) {
    const result = await vlm(
      "run",
      "--model",
      MODEL,
      "--image",
      IMAGE,
      "--prompt",
      "Hi",
      `--max-pixels=${bad}`,
    );
    assert.equal(result.code, 2, bad);
    assert.match(result.stderr, /--max-pixels must be an integer/);
  }
});

/** Starts `vlm serve` with `flags` on the shipped model, posts the test image, returns the answer. */
async function postToServe(
  flags: string[],
): Promise<{ status: number; body: { error?: { code?: string } } }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-ffi",
      "--allow-net=127.0.0.1",
      VLM,
      "serve",
      "--model",
      MODEL,
      "--port",
      "0",
      ...flags,
    ],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let seen = "";
    let url: string | undefined;
    while (!url) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`vlm serve exited before listening:\n${seen}`);
      seen += value;
      url = /http:\/\/[\d.]+:\d+/.exec(seen)?.[0];
    }
    const image = `data:image/png;base64,${
      btoa(String.fromCharCode(...await Deno.readFile(IMAGE)))
    }`;
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        max_tokens: 2,
        messages: [{
          role: "user",
          content: [{ type: "image_url", image_url: { url: image } }, { type: "text", text: "Hi" }],
        }],
      }),
    });
    return { status: response.status, body: await response.json() };
  } finally {
    child.kill("SIGTERM");
    await reader.cancel();
    await child.status;
  }
}

Deno.test("cli: serve --max-pixels refuses larger images with 413 image_too_large", async () => {
  const { status, body } = await postToServe(["--max-pixels", "10000"]);
  assert.equal(status, 413, JSON.stringify(body));
  assert.equal(body.error?.code, "image_too_large");
});

Deno.test("cli: serve --max-image-pixels sets the request's image budget (413 past it)", async () => {
  const { width, height } = readImageHeader(await Deno.readFile(IMAGE));
  const under = await postToServe(["--max-image-pixels", String(width * height)]);
  assert.equal(under.status, 200, JSON.stringify(under.body));
  const over = await postToServe(["--max-image-pixels", String(width * height - 1)]);
  assert.equal(over.status, 413, JSON.stringify(over.body));
  assert.match(JSON.stringify(over.body), /pixel/);
});

Deno.test("withCliFix: rewrites only the decode limit's fix, only for commands with the flag", () => {
  const command = (usage: string): Command => ({ name: "run", summary: "", usage, run: () => 0 });
  const decode = new VlmError("image_too_large", "too big", {
    fix: "downscale the image first, or raise the limit with the maxPixels option",
  });
  const fixed = withCliFix(command("... --max-pixels N ..."), decode);
  assert.equal(fixed.code, "image_too_large");
  assert.equal(fixed.message, "too big");
  assert.match(fixed.fix!, /`vlm run --max-pixels N`/);
  // A command without the flag, an unrelated error, or the server's byte limit: unchanged.
  assert.equal(withCliFix(command("no such flag"), decode), decode);
  assert.equal(withCliFix(undefined, decode), decode);
  const other = new VlmError("image_invalid", "bad", { fix: "maxPixels" });
  assert.equal(withCliFix(command("--max-pixels"), other), other);
  const bytes = new VlmError("image_too_large", "big body", { fix: "send a smaller image" });
  assert.equal(withCliFix(command("--max-pixels"), bytes), bytes);
});
