/** The CLI as users run it: a real `deno run tools/vlm.ts` subprocess. */
import assert from "node:assert/strict";
import { type CliOutput, runVlm } from "./_vlm.ts";

function vlm(...args: string[]): Promise<CliOutput> {
  return runVlm(["--allow-read"], args);
}

Deno.test("cli: tokens --json follows the DESIGN §4 contract", async () => {
  const { code, stdout } = await vlm(
    "tokens",
    "--variant",
    "smolvlm-256m-instruct",
    "--image",
    "640x480",
    "2048x100",
    "--prompt",
    "What is this?",
    "--json",
  );
  assert.equal(code, 0);
  const result = JSON.parse(stdout);
  assert.deepEqual(Object.keys(result).sort(), [
    "contextLength",
    "fits",
    "imageTokens",
    "images",
    "textTokens",
    "textTokensExact",
    "totalTokens",
  ]);
  assert.deepEqual(result.images[0], {
    width: 640,
    height: 480,
    resized: { width: 2048, height: 1536 },
    rows: 3,
    cols: 4,
    tiles: 13,
    tokens: 832,
  });
  assert.equal(result.images[1].tokens, 320);
  assert.equal(result.imageTokens, 1152);
  assert.equal(result.totalTokens, result.imageTokens + result.textTokens);
  assert.equal(result.contextLength, 8192);
  assert.equal(result.fits, true);
});

Deno.test("cli: tokens --backend wasm / --max-tiles count the image budget the run uses", async () => {
  const count = async (...flags: string[]) => {
    const { code, stdout } = await vlm(
      "tokens",
      "--variant=smolvlm-256m-instruct",
      "--image=640x480",
      "--json",
      ...flags,
    );
    assert.equal(code, 0);
    return JSON.parse(stdout);
  };
  const wasm = await count("--backend", "wasm");
  assert.deepEqual([wasm.images[0].tiles, wasm.imageTokens, wasm.maxTiles], [5, 320, 5]);
  const native = await count("--backend", "native");
  assert.deepEqual([native.images[0].tiles, native.imageTokens, native.maxTiles], [13, 832, null]);
  const capped = await count("--backend", "wasm", "--max-tiles", "1");
  assert.deepEqual([capped.images[0].tiles, capped.imageTokens, capped.maxTiles], [1, 64, 1]);
  const bad = await vlm(
    "tokens",
    "--variant=smolvlm-256m-instruct",
    "--image=1x1",
    "--max-tiles=0",
  );
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--max-tiles/);
});

Deno.test("cli: --no-split gives one 64-token tile; repeated --image works", async () => {
  const { stdout } = await vlm(
    "tokens",
    "--variant=smolvlm-256m-instruct",
    "--image=640x480",
    "--image=10x10",
    "--no-split",
    "--json",
  );
  const result = JSON.parse(stdout);
  assert.deepEqual(result.images.map((i: { tokens: number }) => i.tokens), [64, 64]);
  assert.deepEqual(result.images[0].resized, { width: 512, height: 512 });
});

Deno.test("cli: params --json prints {encoder, projector, decoder, total}", async () => {
  const { code, stdout } = await vlm("params", "--variant", "mobilevlm-1.7b", "--json");
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stdout), {
    encoder: 303_507_456,
    projector: 18_936_832,
    decoder: 1_364_297_728,
    total: 1_686_742_016,
  });
});

Deno.test("cli: validate exits 0 for a preset and 1 with issues for a bad spec file", async () => {
  assert.equal((await vlm("validate", "smolvlm-instruct")).code, 0);
  const dir = await Deno.makeTempDir();
  try {
    const spec = JSON.parse(
      Deno.readTextFileSync(new URL("../../variants/smolvlm-256m-instruct.json", import.meta.url)),
    );
    spec.projector.scaleFactor = 3;
    spec.decoder.kvHeads = 2;
    const path = `${dir}/bad.json`;
    await Deno.writeTextFile(path, JSON.stringify(spec));
    const human = await vlm("validate", path);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /projector\.scaleFactor/);
    assert.match(human.stdout, /fix: use r ∈ \{2, 4, 8\}/);
    const json = await vlm("validate", path, "--json");
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout);
    assert.equal(report.valid, false);
    assert.deepEqual(report.issues.map((i: { path: string }) => i.path).sort(), [
      "decoder.kvHeads",
      "projector.scaleFactor",
    ]);
    await Deno.writeTextFile(path, "{ not json");
    const broken = await vlm("validate", path);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: unknown preset, flag, command and bad sizes are clear errors", async () => {
  const preset = await vlm("params", "--variant", "smolvlm-256", "--json");
  assert.equal(preset.code, 1);
  assert.equal(JSON.parse(preset.stdout).error.code, "spec_not_found");
  assert.match(preset.stderr, /did you mean "smolvlm-256m-instruct"/);

  const flag = await vlm("tokens", "--variant", "smolvlm-256m-instruct", "--imgae", "1x1");
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--imgae/);
  assert.match(flag.stderr, /vlm tokens --help/);

  const command = await vlm("tokenz");
  assert.equal(command.code, 2);
  assert.match(command.stderr, /unknown command "tokenz"/);

  const size = await vlm("tokens", "--variant", "smolvlm-256m-instruct", "--image", "640*480");
  assert.equal(size.code, 2);
  assert.match(size.stderr, /WIDTHxHEIGHT/);

  const missing = await vlm("tokens", "--image", "1x1");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--variant is required/);
});

Deno.test("cli: every command has --help", async () => {
  const top = await vlm("--help");
  assert.match(top.stdout, /validate.*\n.*params.*\n.*tokens/);
  const commands = [...top.stdout.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]);
  for (
    const command of [
      "synth",
      "convert",
      "inspect",
      "pull",
      "run",
      "eval",
      "task",
      "doctags",
      "document",
      "plugin",
      "bundle",
      "serve",
      "bench",
      "profile",
    ]
  ) {
    assert.ok(commands.includes(command), `${command} is listed`);
  }
  // Every command answers --help with read access only (nothing heavy is loaded up front).
  for (const command of commands) {
    const { code, stdout } = await vlm(command, "--help");
    assert.equal(code, 0, command);
    assert.match(stdout, new RegExp(`^Usage: vlm ${command}`));
  }
});
