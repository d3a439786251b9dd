// llama.cpp's figures for one GGUF file through node-llama-cpp (prebuilt
// llama.cpp, CPU only), printed as one JSON line:
//   node measure_llama_cpp.mjs --model FILE.gguf --threads 2 --prompt 512 --tokens 128 --runs 3
// Prefill: `prompt` token ids evaluated in one batch. Decode: greedy steps
// after the first new token, per second. Medians over `runs`; a warm-up first.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    threads: { type: "string", default: "2" },
    prompt: { type: "string", default: "512" },
    tokens: { type: "string", default: "128" },
    runs: { type: "string", default: "3" },
  },
});
const threads = Number(values.threads);
const promptLength = Number(values.prompt);
const tokens = Number(values.tokens);
const runs = Number(values.runs);
// The package's exports hide its package.json: read it beside the resolved entry (dist/index.js).
const engineVersion = () =>
  JSON.parse(
    readFileSync(
      join(dirname(fileURLToPath(import.meta.resolve("node-llama-cpp"))), "..", "package.json"),
      "utf8",
    ),
  ).version;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const loadStart = performance.now();
const model = await llama.loadModel({ modelPath: values.model, gpuLayers: 0 });
const loadMs = performance.now() - loadStart;
const context = await model.createContext({
  contextSize: promptLength + tokens + 16,
  batchSize: promptLength,
  threads,
  sequences: 1,
});
const sequence = context.getSequence();
// Deterministic ids away from the special tokens at the start of the vocabulary.
const prompt = Array.from({ length: promptLength }, (_, i) => 300 + ((i * 7919) % 40000));

async function once(decodeTokens) {
  await sequence.clearHistory();
  const t0 = performance.now();
  await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
  let first = 0;
  let count = 0;
  for await (const _ of sequence.evaluate(prompt.slice(-1), { temperature: 0 })) {
    if (count === 0) first = performance.now();
    if (++count >= decodeTokens) break;
  }
  const end = performance.now();
  return {
    prefillTokensPerSec: promptLength / ((first - t0) / 1000),
    decodeTokensPerSec: (count - 1) / ((end - first) / 1000),
    decoded: count,
  };
}

await once(4);
const results = [];
for (let i = 0; i < runs; i++) results.push(await once(tokens));
console.log(JSON.stringify({
  engine: `llama.cpp (node-llama-cpp ${engineVersion()})`,
  threads,
  promptTokens: promptLength,
  loadMs,
  prefillTokensPerSec: median(results.map((r) => r.prefillTokensPerSec)),
  decodeTokensPerSec: median(results.map((r) => r.decodeTokensPerSec)),
  decodedTokens: results[0].decoded,
}));
await context.dispose();
await model.dispose();
