/**
 * transformers.js timings on a model folder, for side-by-side benchmarks:
 * load, preprocessing (its own processor on the image file), time to first
 * token and decode speed (measured with a streamer), medians of `--runs`
 * after a warm-up. Runs in its own process so its onnxruntime-node build
 * never shares an address space with vlmkit's.
 *
 *   deno run -A tools/oracle/transformers_js_timing.ts --model DIR --image PATH --prompt T \
 *     [--max-new-tokens N] [--runs N] [--no-split]
 *
 * Prints `{loadMs, preprocessMs, ttftMs, decodeTokensPerSec, promptTokens, peakRssBytes}`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  AutoModelForVision2Seq,
  AutoProcessor,
  env,
  RawImage,
  TextStreamer,
} from "@huggingface/transformers";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string" },
    image: { type: "string" },
    prompt: { type: "string", default: "Describe this image." },
    "max-new-tokens": { type: "string", default: "32" },
    runs: { type: "string", default: "3" },
    "no-split": { type: "boolean", default: false },
  },
});
if (!values.model || !values.image) {
  console.error(
    "usage: transformers_js_timing.ts --model DIR --image PATH [--prompt T] [--runs N]",
  );
  Deno.exit(2);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let peak = Deno.memoryUsage().rss;
const sampler = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 20);

const modelDir = await Deno.realPath(values.model);
env.allowRemoteModels = false;
const slash = modelDir.lastIndexOf("/");
env.localModelPath = modelDir.slice(0, slash + 1);
const id = modelDir.slice(slash + 1);

const t0 = performance.now();
const processor = await AutoProcessor.from_pretrained(id, { local_files_only: true });
const model = await AutoModelForVision2Seq.from_pretrained(id, {
  dtype: "fp32",
  device: "cpu",
  local_files_only: true,
});
const loadMs = performance.now() - t0;

const text = processor.apply_chat_template(
  [{ role: "user", content: [{ type: "image" }, { type: "text", text: values.prompt! }] }],
  { add_generation_prompt: true },
);
const imagePath = await Deno.realPath(values.image);
const maxNewTokens = Number(values["max-new-tokens"]);
const runs = Number(values.runs);

const preprocess: number[] = [];
const ttft: number[] = [];
const decode: number[] = [];
let promptTokens = 0;
for (let run = 0; run <= runs; run++) {
  const start = performance.now();
  const image = await RawImage.read(imagePath);
  const inputs = await processor(text, [image], { do_image_splitting: !values["no-split"] });
  const processed = performance.now();
  promptTokens = inputs.input_ids.dims[1];
  let first = 0;
  let count = 0;
  const streamer = new TextStreamer(processor.tokenizer!, {
    skip_prompt: true,
    callback_function: () => {},
    token_callback_function: () => {
      count++;
      if (first === 0) first = performance.now();
    },
  });
  await model.generate({
    ...inputs,
    max_new_tokens: maxNewTokens,
    do_sample: false,
    eos_token_id: null as unknown as number[],
    streamer,
  });
  const end = performance.now();
  if (run === 0) continue; // warm-up
  preprocess.push(processed - start);
  ttft.push(first - start);
  decode.push(count > 1 ? ((count - 1) * 1000) / (end - first) : 0);
}
clearInterval(sampler);
console.log(JSON.stringify({
  loadMs,
  preprocessMs: median(preprocess),
  ttftMs: median(ttft),
  decodeTokensPerSec: median(decode),
  promptTokens,
  peakRssBytes: peak,
}));
