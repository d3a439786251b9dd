/**
 * A/B of the token embedding per decode step, same process, alternating:
 * the embed_tokens session (`OnnxEmbedder`, as `embedding: "session"` runs
 * it) against the table gathered in JS (`TableEmbedder`, on disk and held in
 * memory), on the native and the wasm backend. One step embeds one id; a
 * prefill embeds `--prompt` ids. Prints the median and the minimum per side
 * (on a shared machine the minimum is the steadier figure).
 *
 *   deno run -A tools/bench/embed_step_ab.ts --model DIR --dtype int8 [--steps 400] [--prompt 900]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { OnnxEmbedder } from "../../src/modules/onnx_embedder.ts";
import type { Embedder } from "../../src/modules/types.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import { openEmbeddingTable } from "../../src/runtime/embedding_table.ts";
import { openModelFolder } from "../../src/runtime/model_folder.ts";
import { seededRandom } from "../../src/runtime/rng.ts";
import { median } from "../median.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string" },
    dtype: { type: "string", default: "fp32" },
    steps: { type: "string", default: "400" },
    prompt: { type: "string", default: "900" },
    threads: { type: "string", default: "2" },
  },
});
if (!values.model) {
  console.error("usage: embed_step_ab.ts --model DIR [--dtype D] [--steps N] [--prompt N]");
  Deno.exit(2);
}
const suffix = values.dtype === "fp32" ? "" : `_${values.dtype}`;
const path = `onnx/embed_tokens${suffix}.onnx`;
const folder = openModelFolder(values.model);
const steps = Number(values.steps);
const prompt = Number(values.prompt);

const disk = await openEmbeddingTable(folder, path);
const memory = await openEmbeddingTable(folder, path, { disk: false });
if (!disk || !memory) throw new Error(`${path}: not a recognised gather`);
const vocab = disk.embedder.vocab;
const rng = seededRandom(5);
const id = () => Math.floor(rng() * vocab);

async function time(embedder: Embedder, ids: number[]): Promise<number> {
  const t = performance.now();
  await embedder.embed(ids);
  return performance.now() - t;
}

const report: Record<string, unknown> = {};
for (const name of ["native", "wasm"] as const) {
  // wasm runs one thread under Deno (the edge figures are one thread too).
  const threads = name === "wasm" ? 1 : Number(values.threads);
  const backend = await loadBackend({ backend: name, threads });
  const bytes = (await folder.read(path))!;
  const data = await folder.read(`${path}_data`);
  const session = await backend.createSession({
    name: path,
    bytes,
    externalData: data ? [{ path: `${path.split("/").pop()}_data`, data }] : undefined,
  });
  const sides: Record<string, Embedder> = {
    session: new OnnxEmbedder(session, backend.ort),
    tableDisk: disk.embedder,
    tableMemory: memory.embedder,
  };
  const step: Record<string, number[]> = {};
  const prefill: Record<string, number[]> = {};
  for (const side of Object.keys(sides)) await time(sides[side], [id()]); // warm up
  for (let i = 0; i < steps; i++) {
    const ids = [id()];
    for (const side of Object.keys(sides)) (step[side] ??= []).push(await time(sides[side], ids));
  }
  for (let i = 0; i < 10; i++) {
    const ids = Array.from({ length: prompt }, id);
    for (const side of Object.keys(sides)) {
      (prefill[side] ??= []).push(await time(sides[side], ids));
    }
  }
  const summary = (ms: Record<string, number[]>) =>
    Object.fromEntries(
      Object.entries(ms).map(([k, v]) => [k, { medianMs: median(v), minMs: Math.min(...v) }]),
    );
  report[name] = { step: summary(step), prefill: summary(prefill) };
  await session.release();
}
console.log(JSON.stringify({ model: values.model, dtype: values.dtype, steps, prompt, report }));
await disk.embedder.release();
await memory.embedder.release();
