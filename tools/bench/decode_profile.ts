/**
 * Where one decode step's time goes, from ONNX Runtime's own profiler: a
 * prompt of `--prompt` tokens (no image), then `--tokens` greedy steps through
 * `loadModel` (the runtime's real path: KV rows, table embedder, sampler), with
 * profiling switched on for every session. For each decode step it splits the
 * wall time into
 *   - kernels (the sum of the step's node times, and per operator type),
 *   - ONNX Runtime around the kernels (`model_run` minus the node times),
 *   - vlmkit and the binding around `run` (the step's wall time minus `model_run`).
 * The profiler adds a little time to each node, so the step is also timed with
 * profiling off, in a second child process on the same backend.
 *
 *   deno run -A tools/bench/decode_profile.ts --model DIR --dtype fp32 \
 *     [--backend native|wasm|both] [--threads 2] [--prompt 512] [--tokens 64]
 *
 * onnxruntime-web prints its profile to stdout and onnxruntime-node writes it
 * to a file, so each measurement runs in a child process that hands back one
 * JSON line.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadBackend } from "../../src/runtime/backend.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import type { Dtype } from "../../src/spec/types.ts";
import { askText, promptOfTokens } from "./measure_vlmkit_text.ts";
import { decoderNodeCount, decodeSteps, type TraceEvent } from "./ort_profile.ts";

/** What the child process measured on one backend. */
interface ChildFigures {
  backend: string;
  profiled: boolean;
  promptTokens: number;
  /** Decode step wall times (ms), as the runtime's timings report them. */
  stepMs: number;
  decodeTokensPerSec: number;
  kvCache: string;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string" },
    dtype: { type: "string", default: "fp32" },
    backend: { type: "string", default: "both" },
    threads: { type: "string", default: "2" },
    prompt: { type: "string", default: "512" },
    tokens: { type: "string", default: "64" },
    child: { type: "boolean", default: false },
    "profile-dir": { type: "string" },
  },
});

async function child(): Promise<void> {
  const backend = values.backend === "wasm" ? "wasm" : "native";
  const threads = backend === "wasm" ? 1 : Number(values.threads);
  const profileDir = values["profile-dir"];
  if (profileDir) {
    // Every session the runtime opens profiles itself; native writes into the folder.
    const api = await loadBackend({ backend, threads });
    const sessions = api.ort.InferenceSession as unknown as {
      create: (source: unknown, options?: Record<string, unknown>) => Promise<unknown>;
    };
    const create = sessions.create.bind(sessions);
    sessions.create = (source, options) =>
      create(source, {
        ...options,
        enableProfiling: true,
        profileFilePrefix: `${profileDir}/ort`,
      });
  }
  const model = await loadModel(values.model!, { backend, threads, dtype: values.dtype as Dtype });
  const text = await promptOfTokens(model, Number(values.prompt));
  const result = await askText(model, text, Number(values.tokens));
  const figures: ChildFigures = {
    backend,
    profiled: profileDir !== undefined,
    promptTokens: result.promptTokens,
    stepMs: +(1000 / result.timings.decodeTokensPerSec).toFixed(3),
    decodeTokensPerSec: +result.timings.decodeTokensPerSec.toFixed(2),
    kvCache: model.kvCache,
  };
  console.error(`VLMKIT_FIGURES ${JSON.stringify(figures)}`);
  await model.dispose(); // ends profiling: native writes its file, wasm prints to stdout
}

async function runChild(backend: string, profileDir?: string) {
  const args = [
    "run",
    "-A",
    new URL(import.meta.url).pathname,
    "--child",
    `--model=${values.model}`,
    `--dtype=${values.dtype}`,
    `--backend=${backend}`,
    `--threads=${values.threads}`,
    `--prompt=${values.prompt}`,
    `--tokens=${values.tokens}`,
    ...(profileDir ? [`--profile-dir=${profileDir}`] : []),
  ];
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .output();
  const stderr = new TextDecoder().decode(out.stderr);
  const line = stderr.split("\n").find((l) => l.startsWith("VLMKIT_FIGURES "));
  if (!out.success || !line) throw new Error(`child (${backend}) failed:\n${stderr.slice(-2000)}`);
  const figures = JSON.parse(line.slice(15)) as ChildFigures;
  if (!profileDir) return { figures };
  // Native wrote one file per session; wasm printed one JSON array per session.
  const traces: TraceEvent[][] = [];
  for (const entry of Deno.readDirSync(profileDir)) {
    traces.push(JSON.parse(Deno.readTextFileSync(`${profileDir}/${entry.name}`)));
  }
  const stdout = new TextDecoder().decode(out.stdout);
  for (const block of stdout.matchAll(/^\[\n[\s\S]*?^\]$/gm)) traces.push(JSON.parse(block[0]));
  // The decoder's profile is the one with the most runs.
  const runs = (t: TraceEvent[]) => t.filter((e) => e.name === "model_run").length;
  const decoder = traces.sort((a, b) => runs(b) - runs(a))[0];
  if (!decoder) throw new Error(`no profile from the ${backend} child`);
  return { figures, profile: decodeSteps(decoder, decoderNodeCount(decoder)) };
}

if (import.meta.main) {
  if (!values.model) {
    console.error("usage: decode_profile.ts --model DIR [--dtype fp32] [--backend both] [options]");
    Deno.exit(2);
  }
  if (values.child) {
    await child();
  } else {
    const backends = values.backend === "both" ? ["native", "wasm"] : [values.backend!];
    for (const backend of backends) {
      const plain = await runChild(backend);
      const profiled = await runChild(backend, Deno.makeTempDirSync({ prefix: "decode-profile-" }));
      const step = profiled.figures.stepMs;
      const p = profiled.profile!;
      console.log(JSON.stringify({
        backend,
        threads: backend === "wasm" ? 1 : Number(values.threads),
        dtype: values.dtype,
        promptTokens: plain.figures.promptTokens,
        kvCache: plain.figures.kvCache,
        stepMs: plain.figures.stepMs,
        profiledStepMs: step,
        kernelsMs: p.kernelsMs,
        ortOverheadMs: p.ortOverheadMs,
        aroundRunMs: +(step - p.modelRunMs).toFixed(3),
        nodes: p.nodes,
        steps: p.steps,
        byOperator: p.byOperator,
      }));
    }
  }
}
