/**
 * The SmolVLM-256M shape synthesized at one dtype under `work`, built once and
 * reused by later runs of the wasm load and speed tools.
 *
 * @module
 */
import { join } from "node:path";
import { synthesize } from "../../src/build/synthesize.ts";
import { DEFAULT_PRESET, getPreset } from "../../variants/mod.ts";
import { writeFolderAtomically } from "../cli/folder_writer.ts";

/** `work/smolvlm-256m-<dtype>`, synthesized (hf-idefics3 layout) unless it already has a config. */
export async function synthesizedFolder(
  work: string,
  dtype: "fp32" | "int8" | "q4",
): Promise<string> {
  const folder = join(work, `smolvlm-256m-${dtype}`);
  try {
    await Deno.stat(join(folder, "config.json"));
  } catch {
    const built = synthesize(getPreset(DEFAULT_PRESET), {
      dtype,
      layout: "hf-idefics3",
    });
    await writeFolderAtomically(folder, built.files, false);
  }
  return folder;
}
