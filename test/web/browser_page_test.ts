// The demo page end to end: the browser bundle and the page served statically with the
// shipped tiny model, driven in Debian's headless Chromium (the driver runs in its own
// process); on its bundled reading example the page gives the answer the native backend gives.
import assert from "node:assert/strict";
import { basename } from "node:path";
import { buildBundle } from "../../tools/cli/bundle_command.ts";
import { evaluate } from "../../src/eval/evaluate.ts";
import { parseLabels } from "../../src/eval/labels.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import type { DriverReport } from "./_browser_driver.ts";

const CHROMIUM = "/usr/bin/chromium";
const DRIVER = new URL("./_browser_driver.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;
const MODEL = new URL("../../models/tiny-smolvlm/", import.meta.url).pathname;
const EXAMPLES = new URL("../../models/tiny-smolvlm/examples/", import.meta.url);
const READING = parseLabels(
  await Deno.readTextFile(new URL("labels.jsonl", EXAMPLES)),
  "examples/labels.jsonl",
).find((example) => example.prompt === "Read the text.")!;
const IMAGE = new URL(READING.image, EXAMPLES).pathname;

/** The greedy answer of onnxruntime-node on the same image and prompt (the same model and steps,
 * another ONNX Runtime build); the eval test shows it equals PyTorch's. */
async function nativeAnswer(): Promise<string> {
  const model = await loadModel(MODEL, { backend: "native" });
  try {
    const { predictions } = await evaluate(model, [READING], {
      imageSource: (item) => new URL(item.image, EXAMPLES),
      maxNewTokens: 16,
    });
    return predictions[0].prediction;
  } finally {
    await model.dispose();
  }
}
const ARTIFACTS = new URL("../../.artifacts/", import.meta.url).pathname;
const SCREENSHOT = `${ARTIFACTS}browser-page.png`;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const hasChromium = exists(CHROMIUM);
if (!hasChromium) {
  console.warn(`browser page test skipped: ${CHROMIUM} is absent (apt-get install chromium)`);
}

Deno.test({
  name: "web: the demo page loads the model in Chromium and streams an answer with timings",
  ignore: !hasChromium,
  sanitizeResources: false,
  async fn() {
    const site = await Deno.makeTempDir({ prefix: "vlmkit-web-" });
    try {
      const { files } = await buildBundle("browser", site);
      assert.deepEqual(files.map((f) => basename(f.path)), [
        "vlmkit.browser.js",
        "ort-wasm-simd-threaded.wasm",
        "index.html",
        "app.js",
      ]);
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await Deno.remove(SCREENSHOT).catch(() => {});
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--config",
          DENO_JSON,
          DRIVER,
          site,
          MODEL,
          IMAGE,
          SCREENSHOT,
          READING.prompt,
        ],
        env: { NO_COLOR: "1" },
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.ok(run.success, `the browser driver failed:\n${stderr}`);
      const report: DriverReport = JSON.parse(new TextDecoder().decode(run.stdout));

      assert.deepEqual(report.pageErrors, []);
      assert.equal(report.state, "ready", report.status);
      assert.equal(report.error, false, report.status);
      assert.equal(report.answer.trim(), await nativeAnswer());
      // Deltas arrive one by one while decoding, not as one final text.
      assert.ok(report.answerUpdates >= 2, `${report.answerUpdates} answer update(s)`);
      assert.match(report.status, /^Done \(eos\)\.$/);
      assert.match(report.loadMs, /^\d+ ms$/);
      assert.match(report.ttftMs, /^\d+ ms$/);
      assert.match(report.tokensPerSec, /^\d+\.\d tokens\/s$/);
      assert.match(report.tokens, /^\d+ generated, \d+ in the prompt \(\d+ image\)$/);

      // ONNX Runtime fetched its binary from next to the bundle and needed nothing else;
      // only optional model files (e.g. external weights) may be absent.
      assert.ok(
        report.requests.includes("200 /ort-wasm-simd-threaded.wasm"),
        report.requests.join("\n"),
      );
      const missing = report.requests.filter((r) =>
        r.startsWith("404 ") && !r.startsWith("404 /models/tiny/")
      );
      assert.deepEqual(missing, []);
      assert.ok((await Deno.stat(SCREENSHOT)).size > 0);
    } finally {
      await Deno.remove(site, { recursive: true });
    }
  },
});
