// vlm task video: frames from images, or from a video file through ffmpeg.
import assert from "node:assert/strict";
import { join } from "node:path";
import { TINY_MODEL } from "../runtime/_tiny_model.ts";
import { runVlm } from "./_vlm.ts";

const ALL = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-run"];
const SOURCES = new URL("../fixtures/images/sources/", import.meta.url);
const VLM = new URL("../../tools/vlm.ts", import.meta.url).pathname;

async function hasFfmpeg(): Promise<boolean> {
  try {
    return (await new Deno.Command("ffmpeg", { args: ["-version"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

Deno.test("cli: task video takes images as frames, --frame-interval apart", async () => {
  const images = ["checker.png", "tiny.png", "grey.png"].map((n) => new URL(n, SOURCES).pathname);
  const args = [
    "task",
    "video",
    "--model",
    TINY_MODEL.pathname,
    "--prompt",
    "What happens?",
    "--max-new-tokens",
    "3",
  ];
  const result = await runVlm(ALL, [
    ...args,
    ...images.flatMap((i) => ["--image", i]),
    "--frame-interval",
    "2",
    "--json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout).output.frameTimes, [0, 2, 4]);
});

Deno.test({
  name: "cli: task video decodes a video file with ffmpeg at the plugin's fps",
  ignore: !(await hasFfmpeg()),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const clip = join(dir, "clip.mp4");
      const make = await new Deno.Command("ffmpeg", {
        args: [
          "-loglevel",
          "error",
          "-f",
          "lavfi",
          "-i",
          "testsrc=size=96x64:rate=10",
          "-t",
          "4",
          "-pix_fmt",
          "yuv420p",
          clip,
        ],
      }).output();
      assert.ok(make.success, new TextDecoder().decode(make.stderr));
      const result = await runVlm(ALL, [
        "task",
        "video",
        "--model",
        TINY_MODEL.pathname,
        "--video",
        clip,
        "--option",
        "fps=1",
        "--max-new-tokens",
        "2",
        "--json",
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout).output.frameTimes, [0, 1, 2, 3]);
      // The temporary frame folder is gone.
      const leftovers = [...Deno.readDirSync(Deno.env.get("TMPDIR") ?? "/tmp")].filter((e) =>
        e.name.startsWith("vlmkit-frames-")
      );
      assert.deepEqual(leftovers, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("cli: task video without ffmpeg on PATH says so and how to fix it", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...ALL,
      VLM,
      "task",
      "video",
      "--model",
      TINY_MODEL.pathname,
      "--video",
      "/tmp/none.mp4",
      "--json",
    ],
    env: { NO_COLOR: "1", PATH: "/nonexistent" },
  }).output();
  assert.equal(output.code, 1);
  const error = JSON.parse(new TextDecoder().decode(output.stdout)).error;
  assert.match(error.message, /needs ffmpeg, which is not installed/);
  assert.match(error.fix, /apt-get install ffmpeg/);
});
