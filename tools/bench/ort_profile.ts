/**
 * Reading ONNX Runtime's profiler output (Chrome trace events, as both
 * onnxruntime-node's profile file and onnxruntime-web's printed profile hold
 * them): the decode steps of a decoder session, split into kernel time per
 * operator type and the executor's time around the kernels.
 *
 * @module
 */
import { median } from "../median.ts";

/** One event of ONNX Runtime's profile (Chrome trace format). */
export interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/** The decode steps' share of time, from the profile. Medians over the steps, in ms. */
export interface StepProfile {
  steps: number;
  modelRunMs: number;
  kernelsMs: number;
  /** `model_run` minus the kernels: ONNX Runtime's executor, allocation, copies in and out. */
  ortOverheadMs: number;
  nodes: number;
  /** Median ms per step by operator type, largest first. */
  byOperator: Record<string, number>;
}

/**
 * The decode steps of a profile: every `model_run` whose node count is the
 * decoder's, after the first (the prefill), with the nodes inside each.
 */
export function decodeSteps(events: TraceEvent[], decoderNodes: number): StepProfile {
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run")
    .sort((a, b) => a.ts - b.ts);
  const nodes = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"))
    .sort((a, b) => a.ts - b.ts);
  const perRun = runs.map((run) => {
    const inside = nodes.filter((n) => n.ts >= run.ts && n.ts + n.dur <= run.ts + run.dur + 1);
    return { run, inside };
  }).filter((r) => r.inside.length === decoderNodes).slice(1);
  if (perRun.length === 0) throw new Error("no decode step found in the profile");
  const ops = new Map<string, number[]>();
  for (const [i, { inside }] of perRun.entries()) {
    for (const node of inside) {
      const op = node.args?.op_name ?? "?";
      const list = ops.get(op) ?? Array(perRun.length).fill(0);
      list[i] += node.dur / 1000;
      ops.set(op, list);
    }
  }
  const kernels = perRun.map(({ inside }) => inside.reduce((s, n) => s + n.dur, 0) / 1000);
  const modelRun = perRun.map(({ run }) => run.dur / 1000);
  const byOperator = Object.fromEntries(
    [...ops].map(([op, ms]) => [op, +median(ms).toFixed(3)] as const).sort((a, b) => b[1] - a[1]),
  );
  return {
    steps: perRun.length,
    modelRunMs: +median(modelRun).toFixed(3),
    kernelsMs: +median(kernels).toFixed(3),
    ortOverheadMs: +median(modelRun.map((m, i) => m - kernels[i])).toFixed(3),
    nodes: decoderNodes,
    byOperator,
  };
}

/** The node count of the decoder's runs: the most frequent per-run node count. */
export function decoderNodeCount(events: TraceEvent[]): number {
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
  const nodes = events.filter((e) => e.cat === "Node");
  const counts = new Map<number, number>();
  for (const run of runs) {
    const n = nodes.filter((e) => e.ts >= run.ts && e.ts + e.dur <= run.ts + run.dur + 1).length;
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0][0];
}
