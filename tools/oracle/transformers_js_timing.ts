/**
 * transformers.js 4.3.1 timings on a model folder, the other side of the
 * benchmark's comparisons, with the same requests as
 * `tools/bench/measure_vlmkit.ts`: after a warm-up, `runs` unsplit requests
 * on the 512² image decoding `tokens` tokens (time to first token through a
 * streamer, decode speed) and `runs` split requests on the photo
 * (preprocessing with its own processor, time to first token). It has no
 * feature or KV prefix cache, so a second question costs a full first token:
 * `secondQuestionMs` is that figure. Runs in its own process so its
 * onnxruntime-node build never shares an address space with vlmkit's.
 *
 *   deno run -A tools/oracle/transformers_js_timing.ts --model DIR --photo JPEG --square PNG \
 *     [--dtype fp32|int8|q4] [--runs 5] [--tokens 128] [--no-photo]
 *
 * Prints one JSON line with the fields of `VlmkitFigures` it can measure
 * (vision per tile and prefill speed are not observable from outside: null).
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
import { trackPeakRss } from "../bench/peak_rss.ts";
import { median } from "../median.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string" },
    photo: { type: "string" },
    square: { type: "string" },
    dtype: { type: "string", default: "fp32" },
    runs: { type: "string", default: "5" },
    tokens: { type: "string", default: "128" },
    "no-photo": { type: "boolean", default: false },
  },
});
if (!values.model || !values.photo || !values.square) {
  console.error("usage: transformers_js_timing.ts --model DIR --photo JPEG --square PNG [options]");
  Deno.exit(2);
}

const rss = trackPeakRss();

const modelDir = await Deno.realPath(values.model);
env.allowRemoteModels = false;
const slash = modelDir.lastIndexOf("/");
env.localModelPath = modelDir.slice(0, slash + 1);
const id = modelDir.slice(slash + 1);

const t0 = performance.now();
const processor = await AutoProcessor.from_pretrained(id, { local_files_only: true });
const model = await AutoModelForVision2Seq.from_pretrained(id, {
  dtype: values.dtype as "fp32",
  device: "cpu",
  local_files_only: true,
});
const loadMs = performance.now() - t0;

const text = processor.apply_chat_template(
  [{ role: "user", content: [{ type: "image" }, { type: "text", text: "Describe this image." }] }],
  { add_generation_prompt: true },
);
const runs = Number(values.runs);
const tokens = Number(values.tokens);

interface Run {
  preprocessMs: number;
  ttftMs: number;
  decodeTokensPerSec: number;
  promptTokens: number;
}

async function request(path: string, split: boolean, maxNewTokens: number): Promise<Run> {
  const start = performance.now();
  const image = await RawImage.read(path);
  const inputs = await processor(text, [image], { do_image_splitting: split });
  const processed = performance.now();
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
  return {
    preprocessMs: processed - start,
    ttftMs: first - start,
    decodeTokensPerSec: count > 1 ? ((count - 1) * 1000) / (end - first) : 0,
    promptTokens: inputs.input_ids.dims[1],
  };
}

const squarePath = await Deno.realPath(values.square);
const photoPath = await Deno.realPath(values.photo);
await request(squarePath, false, 4); // warm-up
const square: Run[] = [];
for (let i = 0; i < runs; i++) square.push(await request(squarePath, false, tokens));
const photo: Run[] = [];
if (!values["no-photo"]) {
  for (let i = 0; i < runs; i++) photo.push(await request(photoPath, true, 1));
}
rss.stop();
const photoFigure = (f: (r: Run) => number) => photo.length ? median(photo.map(f)) : null;
console.log(JSON.stringify({
  loadMs,
  preprocessMs: photoFigure((r) => r.preprocessMs),
  visionMsPerTile: null,
  prefillTokensPerSec: null,
  ttftSquareMs: median(square.map((r) => r.ttftMs)),
  ttftPhotoMs: photoFigure((r) => r.ttftMs),
  decodeTokensPerSec: median(square.map((r) => r.decodeTokensPerSec)),
  decodedTokens: tokens,
  secondQuestionMs: photoFigure((r) => r.ttftMs),
  photoTiles: null,
  photoPromptTokens: photo[0]?.promptTokens ?? null,
  squarePromptTokens: square[0].promptTokens,
  peakRssBytes: rss.peak(),
}));
