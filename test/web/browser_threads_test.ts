// The browser bundle on two wasm threads: onnxruntime-web's worker threads load the bundle
// itself, and ORT (imported on first use) must start in them. In a cross-origin isolated
// Chromium page, a model loaded with `threads: 2` starts an ORT worker and answers as with one
// thread; before the fix, loading waited forever.
import assert from "node:assert/strict";
import { buildBundle } from "../../tools/cli/bundle_command.ts";

const CHROMIUM = "/usr/bin/chromium";
const DRIVER = new URL("./_threads_driver.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;
const MODEL = new URL("../../models/tiny-smolvlm/", import.meta.url).pathname;

const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!hasChromium) {
  console.warn(`browser threads test skipped: ${CHROMIUM} is absent (apt-get install chromium)`);
}

// Counts the workers ORT starts (they are named `em-pthread…`) and runs one greedy request.
const PAGE = `<!doctype html><script type="module">
import { loadModel } from "./vlmkit.browser.js";
const started = [];
const Native = globalThis.Worker;
globalThis.Worker = class extends Native {
  constructor(url, options) { super(url, options); started.push(options?.name ?? ""); }
};
globalThis.run = async (threads) => {
  const model = await loadModel(new URL("/model/", location.href), { backend: "wasm", threads });
  const result = await model.generate({
    prompt: "Describe the image.", maxNewTokens: 12, stopTokenIds: [],
  });
  await model.dispose();
  return {
    ids: result.tokenIds,
    isolated: crossOriginIsolated,
    ortWorkers: started.filter((name) => name.startsWith("em-pthread")).length,
  };
};
</script>`;

interface ThreadsRun {
  threads: number;
  result: { ids: number[]; isolated: boolean; ortWorkers: number } | { timedOut: true };
  errors: string[];
}

Deno.test({
  name: "web: the browser bundle runs the wasm backend on two threads in an isolated page",
  ignore: !hasChromium,
  sanitizeResources: false,
  async fn() {
    const site = await Deno.makeTempDir({ prefix: "vlmkit-threads-" });
    try {
      await buildBundle("browser", site, { page: false });
      await Deno.writeTextFile(`${site}/threads.html`, PAGE);
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", DENO_JSON, DRIVER, site, MODEL],
        env: { NO_COLOR: "1" },
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.ok(run.success, `the threads driver failed:\n${stderr}`);
      const [one, two]: ThreadsRun[] = JSON.parse(new TextDecoder().decode(run.stdout));
      assert.deepEqual([one.errors, two.errors], [[], []]);
      assert.ok(!("timedOut" in one.result), "one thread did not answer");
      assert.ok(!("timedOut" in two.result), "two threads: loading or generating never finished");
      assert.equal(two.result.isolated, true);
      assert.equal(one.result.ortWorkers, 0);
      assert.ok(two.result.ortWorkers >= 1, `${two.result.ortWorkers} ORT worker(s) started`);
      assert.deepEqual(two.result.ids, one.result.ids);
    } finally {
      await Deno.remove(site, { recursive: true });
    }
  },
});
