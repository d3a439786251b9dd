// Repos for the hub tests: a runnable synthesized SmolVLM export with fp32 and
// q4 files side by side, and small stand-in repos (random bytes in place of
// ONNX graphs) for the transfer tests, which never parse the weights.
import { synthesize } from "../../src/build/synthesize.ts";
import { getPreset } from "../../variants/mod.ts";
import type { ServedFile } from "./_hub_server.ts";

let runnable: ServedFile[] | undefined;

/** A test-scale smolvlm-256m-instruct export in the hf-idefics3 layout, fp32 and q4 weights. */
export function runnableRepo(): ServedFile[] {
  if (!runnable) {
    const spec = getPreset("smolvlm-256m-instruct");
    const fp32 = synthesize(spec, { scale: "test" }).files;
    const q4 = synthesize(spec, { scale: "test", dtype: "q4" }).files;
    // Configs do not depend on the weight format; take the ONNX files of both.
    runnable = [...fp32, ...q4.filter((file) => file.path.endsWith(".onnx"))];
  }
  return runnable;
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function noise(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/**
 * A stand-in hf-idefics3 repo: configs, `onnx/<module><suffix>.onnx` for each
 * dtype (sizes in the hundreds of kB), external data for the fp32 decoder, and
 * files a pull must skip (README, .gitattributes, another export).
 */
export function standInRepo(seed = 1, dtypes: Record<string, string> = { fp32: "", q4: "_q4" }) {
  const files: ServedFile[] = [
    { path: ".gitattributes", bytes: new TextEncoder().encode("*.onnx filter=lfs\n") },
    { path: "README.md", bytes: new TextEncoder().encode(`# stand-in ${seed}\n`) },
    { path: "config.json", bytes: text({ model_type: "idefics3", seed }) },
    { path: "preprocessor_config.json", bytes: text({ size: { longest_edge: 512 } }) },
    { path: "processor_config.json", bytes: text({ image_seq_len: 64 }) },
    { path: "generation_config.json", bytes: text({ eos_token_id: 2 }) },
    { path: "tokenizer.json", bytes: noise(20_000, seed + 100) },
    { path: "tokenizer_config.json", bytes: text({ chat_template: "{{ messages }}" }) },
    { path: "special_tokens_map.json", bytes: text({}) },
    { path: "onnx/model.onnx", bytes: noise(50_000, seed + 200) },
  ];
  let n = 0;
  for (const [dtype, suffix] of Object.entries(dtypes)) {
    for (
      const [module, size] of [["vision_encoder", 60_000], ["embed_tokens", 90_000], [
        "decoder_model_merged",
        300_000,
      ]] as const
    ) {
      const scale = dtype === "fp32" ? 2 : 1;
      files.push({
        path: `onnx/${module}${suffix}.onnx`,
        bytes: noise(size * scale, seed * 1000 + n++),
      });
    }
  }
  if ("fp32" in dtypes) {
    files.push({ path: "onnx/decoder_model_merged.onnx_data", bytes: noise(120_000, seed + 300) });
  }
  return files;
}

/** The bytes of `path` in `files`. */
export function bytesOf(files: ServedFile[], path: string): Uint8Array {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path} in the test repo`);
  return file.bytes;
}

/** Every file (relative path) under `dir`, sorted. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(path: string, prefix: string) {
    for await (const entry of Deno.readDir(path)) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory) await walk(`${path}/${entry.name}`, rel);
      else out.push(rel);
    }
  }
  try {
    await walk(dir, "");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out.sort();
}
