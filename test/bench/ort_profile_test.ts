import assert from "node:assert/strict";
import fc from "fast-check";
import { decoderNodeCount, decodeSteps, type TraceEvent } from "../../tools/bench/ort_profile.ts";

/** One run as ONNX Runtime lays it out: the nodes back to back inside `model_run`, from `start`. */
function run(start: number, nodes: { op: string; dur: number }[], gap: number): TraceEvent[] {
  const events: TraceEvent[] = [];
  let ts = start + gap;
  for (const [i, node] of nodes.entries()) {
    events.push({
      cat: "Node",
      name: `/n${i}_kernel_time`,
      ts,
      dur: node.dur,
      args: { op_name: node.op },
    });
    ts += node.dur + gap;
  }
  events.push({ cat: "Session", name: "model_run", ts: start, dur: ts - start });
  return events;
}

const node = fc.record({
  op: fc.constantFrom("MatMul", "GroupQueryAttention", "Add"),
  dur: fc.integer({ min: 1, max: 5000 }),
});

Deno.test("a decode step's kernels, per operator and around them, from the trace", () => {
  fc.assert(
    fc.property(
      fc.array(node, { minLength: 2, maxLength: 12 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 0, max: 50 }),
      fc.array(node, { minLength: 13, maxLength: 20 }),
      (step, steps, gap, other) => {
        // Another session's runs (more nodes) interleave; the first decoder run is the prefill.
        const prefill = step.map((n) => ({ ...n, dur: n.dur * 7 }));
        const events = [
          ...run(0, prefill, gap),
          ...run(1e7, other, gap),
          ...Array.from({ length: steps }, (_, i) => run(2e7 + i * 1e6, step, gap)).flat(),
        ];
        // Profiles are not ordered by time.
        events.reverse();
        const kernels = step.reduce((s, n) => s + n.dur, 0);
        const profile = decodeSteps(events, step.length);
        assert.equal(profile.steps, steps);
        assert.ok(Math.abs(profile.kernelsMs - kernels / 1000) < 1e-3);
        assert.ok(Math.abs(profile.ortOverheadMs - (step.length + 1) * gap / 1000) < 2e-3);
        const perOp = Object.values(profile.byOperator).reduce((s, v) => s + v, 0);
        assert.ok(Math.abs(perOp - kernels / 1000) < 5e-3);
        const ops = Object.keys(profile.byOperator);
        assert.deepEqual(ops.sort(), [...new Set(step.map((n) => n.op))].sort());
      },
    ),
  );
});

Deno.test("the decoder's node count is the most frequent run's", () => {
  const step = [{ op: "MatMul", dur: 10 }, { op: "Add", dur: 2 }];
  const events = [
    ...run(0, [{ op: "Gather", dur: 4 }], 1),
    ...[1, 2, 3].flatMap((i) => run(i * 1000, step, 1)),
  ];
  assert.equal(decoderNodeCount(events), 2);
  assert.throws(() => decodeSteps(run(0, step, 1), 2), /no decode step/);
});
