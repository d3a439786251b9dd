// Per-platform edge verdicts: thresholds, the estimate's shape (a property over dtypes), and the
// estimate against a measured run — the tiny model through the edge bundle in a bare
// `deno run --no-config`, its peak RSS read from /proc (VmHWM): the estimate must not be below
// what is measured, so it never reads "fits" where the measured run does not.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  EDGE_ESTIMATE_CONSTANTS,
  EDGE_PLATFORMS,
  estimateEdgePeak,
  platformVerdicts,
} from "../../src/profile/edge_verdict.ts";
import { describeModelFolder } from "../../src/runtime/model_spec.ts";
import { openModelFolder } from "../../src/runtime/model_folder.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { getPreset } from "../../variants/mod.ts";
import type { Dtype, VariantSpec } from "../../src/spec/types.ts";
import { WEIGHT_FORMATS } from "../../src/build/layers/ops.ts";
import { measureEdgeWasm } from "../../tools/bench/edge.ts";
import { writeEdgeImages } from "../../tools/bench/inputs.ts";

function withDtype(spec: VariantSpec, dtype: Dtype): VariantSpec {
  const modules = Object.fromEntries(
    Object.entries(spec.artifacts.modules).map(([m, a]) => [m, { ...a, dtype }]),
  );
  return { ...spec, artifacts: { ...spec.artifacts, modules } };
}

const TINY = new URL("../../models/tiny-smolvlm/", import.meta.url);
const MiB = 2 ** 20;

Deno.test("edge verdict: a peak fits a platform exactly when it is at most its limit", () => {
  assert.deepEqual(EDGE_PLATFORMS.map((p) => p.limitBytes), [128e6, 256e6, 512e6]);
  const verdicts = platformVerdicts({ unsplit: 128e6, photo: 300e6 });
  assert.deepEqual(verdicts.map((v) => [v.unsplit, v.photo]), [[true, false], [true, false], [
    true,
    true,
  ]]);
  fc.assert(fc.property(fc.nat(), fc.nat(), (unsplit, photo) => {
    const v = platformVerdicts({ unsplit, photo });
    // A larger limit never turns a fit into a miss.
    for (let i = 1; i < v.length; i++) {
      assert.ok(!v[i - 1].photo || v[i].photo);
      assert.ok(!v[i - 1].unsplit || v[i].unsplit);
    }
  }));
});

Deno.test("edge verdict (property): estimate ≥ floor + weights, photo ≥ unsplit, per dtype", () => {
  const base = getPreset("smolvlm-256m-instruct");
  fc.assert(fc.property(fc.constantFrom(...WEIGHT_FORMATS), (dtype) => {
    const estimate = estimateEdgePeak(resolve(withDtype(base, dtype)));
    assert.equal(estimate.kind, "estimate");
    assert.ok(estimate.afterLoadBytes > EDGE_ESTIMATE_CONSTANTS.runtimeFloorBytes);
    assert.ok(estimate.peakBytes.unsplit > estimate.afterLoadBytes);
    assert.ok(estimate.peakBytes.photo >= estimate.peakBytes.unsplit);
  }));
  // SmolVLM-256M int8: measured 722 MiB unsplit (README), over every platform's limit.
  const int8 = estimateEdgePeak(resolve(withDtype(base, "int8")));
  assert.ok(int8.peakBytes.unsplit >= 722 * MiB);
  assert.ok(int8.platforms.every((p) => !p.unsplit && !p.photo));
});

Deno.test("edge verdict: the estimate for the tiny model is not below its measured edge peak", async () => {
  const { spec } = await describeModelFolder(openModelFolder(TINY));
  const estimate = estimateEdgePeak(resolve(spec));
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-edge-verdict-" });
  try {
    const images = await writeEdgeImages(dir);
    const measured = await measureEdgeWasm(
      { name: "tiny-smolvlm", folder: TINY.pathname },
      images,
      { runs: 1, tokens: 8 },
    );
    assert.equal(measured.photo.tiles, 5);
    const peaks = { unsplit: measured.unsplit.peakRssBytes, photo: measured.photo.peakRssBytes };
    const mib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;
    console.log(
      `tiny-smolvlm on wasm: measured peak ${mib(peaks.unsplit)} unsplit, ${
        mib(peaks.photo)
      } photo; estimated ${mib(estimate.peakBytes.unsplit)}, ${mib(estimate.peakBytes.photo)}`,
    );
    assert.ok(estimate.peakBytes.unsplit >= peaks.unsplit);
    assert.ok(estimate.peakBytes.photo >= peaks.photo);
    assert.ok(estimate.afterLoadBytes >= measured.unsplit.loadRssBytes);
    const actual = platformVerdicts(peaks);
    estimate.platforms.forEach((verdict, i) => {
      assert.ok(!verdict.unsplit || actual[i].unsplit, verdict.platform);
      assert.ok(!verdict.photo || actual[i].photo, verdict.platform);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
