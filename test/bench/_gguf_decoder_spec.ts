// The decoder both GGUF agreement tests run: test scale, wide enough for 32-value quantization
// blocks (hidden 64).
import { scaledSpec } from "../../src/build/test_scale.ts";
import { parseSpec } from "../../src/spec/validate.ts";
import { getPreset } from "../../variants/mod.ts";

const base = scaledSpec(getPreset("smolvlm-256m-instruct"), "test");

/** SmolVLM-256M at test scale with a 64-wide decoder. */
export const GGUF_TEST_SPEC = parseSpec({
  ...base,
  decoder: {
    ...base.decoder,
    hidden: 64,
    heads: 4,
    kvHeads: 2,
    headDim: 16,
    intermediate: 128,
  },
});
