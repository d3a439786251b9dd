// MobileVLM composed as the MobileVLM repository loads it: the CLIP tower from
// one checkpoint (--encoder-from) and the MobileLLaMA decoder plus LDP/LDPv2
// projector from another (--from), under the names in
// src/families/mobilevlm.ts (1×1 convs stored [out, in, 1, 1]). Seeded
// weights written that way convert back to the synthesized folder byte for byte.
import assert from "node:assert/strict";
import { synthesize } from "../../../src/build/synthesize.ts";
import { scaledSpec } from "../../../src/build/test_scale.ts";
import { getPreset } from "../../../variants/mod.ts";
import { convertFromArgs } from "../../../tools/cli/convert_command.ts";
import {
  checkpointTensors,
  toEntries,
  writeCheckpoint,
} from "../../../tools/bench/seeded_checkpoint.ts";

for (const preset of ["mobilevlm-1.7b", "mobilevlm-v2-1.7b"]) {
  Deno.test(`${preset}: a CLIP checkpoint plus a MobileVLM checkpoint convert back byte for byte`, async () => {
    const spec = scaledSpec(getPreset(preset), "test");
    const seeded = synthesize(spec, { seed: 0 });
    const tensors = checkpointTensors(seeded);
    const isTower = (name: string) => name.startsWith("vision_model.");
    const entries = toEntries(tensors);
    assert.ok(
      entries.some((e) => e.shape.length === 4 && e.shape[2] === 1) ===
        (spec.projector.kind === "ldp"),
      "LDP's 1×1 convs are stored 4-D",
    );
    const dir = await Deno.makeTempDir({ prefix: "vlmkit-mobilevlm-convert-" });
    try {
      await writeCheckpoint(`${dir}/clip`, entries.filter((e) => isTower(e.name)));
      await writeCheckpoint(`${dir}/mobilevlm`, entries.filter((e) => !isTower(e.name)), 2);
      await Deno.writeTextFile(`${dir}/variant.json`, JSON.stringify(spec));
      const summary = await convertFromArgs([
        "--from",
        `${dir}/mobilevlm`,
        "--encoder-from",
        `${dir}/clip`,
        "--variant",
        `${dir}/variant.json`,
        "--out",
        `${dir}/out`,
      ]);
      assert.equal(summary.layout, "modular");
      // Converted folders stream their weights to external data.
      for (const file of synthesize(spec, { seed: 0, externalData: "always" }).files) {
        const written = await Deno.readFile(`${dir}/out/${file.path}`);
        assert.ok(Buffer.compare(written, file.bytes) === 0, `${file.path} differs`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
