// Greedy continuation of given token ids with llama.cpp (node-llama-cpp), for
// the agreement test: node greedy_ids.mjs --model FILE.gguf --ids 1,2,3 --tokens 8
// prints {"ids": [...]}.
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    ids: { type: "string" },
    tokens: { type: "string", default: "8" },
  },
});
const prompt = values.ids.split(",").map(Number);
const tokens = Number(values.tokens);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: values.model, gpuLayers: 0 });
const context = await model.createContext({
  contextSize: prompt.length + tokens + 16,
  batchSize: prompt.length,
  threads: 1,
});
const sequence = context.getSequence();
const ids = [];
for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
  ids.push(token);
  if (ids.length >= tokens) break;
}
console.log(JSON.stringify({ ids }));
await context.dispose();
await model.dispose();
