/**
 * What a model folder describes, before any session is opened: its variant
 * spec (from the Hugging Face configs of a published export, read by its
 * family's codec, or from the `vlmkit.json` manifest of a modular folder),
 * tokenizer and chat template.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { resolve } from "../spec/resolve.ts";
import type { Dtype, VariantSpec } from "../spec/types.ts";
import { parseSpec } from "../spec/validate.ts";
import { ChatTemplate } from "../text/chat_template.ts";
import { TextTokenizer } from "../text/tokenizer.ts";
import { hfConfigCodecFor, layoutNamed } from "../families/registry.ts";
import { MODULAR_MANIFEST_FILE } from "../families/modular_layout.ts";
import { type HfFiles, specFromHfFiles } from "./hf_config.ts";
import { detectDtype } from "./dtype_detection.ts";
import { type ModelFolder, readJson, requireJson } from "./model_folder.ts";

/** The three sessions of the hf-idefics3 layout. */
export type HfModule = "vision_encoder" | "embed_tokens" | "decoder_model_merged";

/** The four sessions of the modular layout. */
export type ModularModule = "encoder" | "projector" | "embed_tokens" | "decoder";

/** Weight format for every module, or per module. */
export type DtypeChoice = Dtype | Partial<Record<HfModule | ModularModule, Dtype>>;

export { MODULAR_MANIFEST_FILE };

type Json = Record<string, unknown>;

/** A folder's spec, tokenizer and chat template. */
export interface ModelDescription {
  /** The variant the folder implements, with the chosen dtypes. */
  spec: VariantSpec;
  /** Its tokenizer. */
  tokenizer: TextTokenizer;
  /** Its chat template. */
  template: ChatTemplate;
  /** Whether the folder is modular (has a manifest). */
  modular: boolean;
}

/** The modular manifest's spec, with module dtypes overridden by the option. */
function specFromManifest(manifest: Json, option: DtypeChoice | undefined): VariantSpec {
  if (manifest.format !== "vlmkit-modular" || manifest.version !== 1) {
    throw new VlmError(
      "model_invalid",
      `${MODULAR_MANIFEST_FILE}: format ${JSON.stringify(manifest.format)} version ${
        JSON.stringify(manifest.version)
      } is not a vlmkit modular manifest (vlmkit-modular, version 1)`,
      { fix: "re-create the folder with `vlm synth --layout modular`" },
    );
  }
  const spec = parseSpec(manifest.spec);
  if (option === undefined) return spec;
  const modules = Object.fromEntries(
    Object.entries(spec.artifacts.modules).map(([module, artifact]) => {
      const dtype = typeof option === "string"
        ? option
        : option[module as ModularModule] ?? artifact.dtype;
      return [module, { ...artifact, dtype }];
    }),
  );
  return { ...spec, artifacts: { ...spec.artifacts, modules } };
}

/** The dtype of each of `modules`: the option's, else fp32. */
function dtypesFor(
  modules: readonly string[],
  option: DtypeChoice | undefined,
): Record<string, Dtype> {
  const base: Dtype = typeof option === "string" ? option : "fp32";
  const perModule: Partial<Record<string, Dtype>> = typeof option === "object" ? option : {};
  return Object.fromEntries(modules.map((module) => [module, perModule[module] ?? base]));
}

/** Reads the tokenizer and chat template every layout has. */
async function readTextFiles(folder: ModelFolder, signal?: AbortSignal) {
  const [tokenizerJson, tokenizerConfig, chatJson] = await Promise.all([
    requireJson(folder, "tokenizer.json", signal),
    readJson(folder, "tokenizer_config.json", signal),
    readJson(folder, "chat_template.json", signal),
  ]);
  const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig ?? {});
  const templateSource = ((chatJson as Json | undefined)?.chat_template ??
    (tokenizerConfig as Json | undefined)?.chat_template) as string | undefined;
  if (typeof templateSource !== "string") {
    throw new VlmError("model_invalid", `${folder.location} has no chat template`, {
      fix: "add chat_template.json (or chat_template in tokenizer_config.json)",
    });
  }
  const tc = (tokenizerConfig ?? {}) as Json;
  const specialTokens: Record<string, string> = {};
  for (const key of ["bos_token", "eos_token", "pad_token", "unk_token"]) {
    const value = tc[key];
    if (typeof value === "string") specialTokens[key] = value;
  }
  return { tokenizer, template: new ChatTemplate(templateSource, specialTokens) };
}

/** The spec of a published Hugging Face folder, read by its family's config codec. */
async function hfSpec(
  folder: ModelFolder,
  tokenizer: TextTokenizer,
  config: Json,
  options: { dtype?: DtypeChoice; signal?: AbortSignal },
): Promise<VariantSpec> {
  const { signal } = options;
  const codec = hfConfigCodecFor(config);
  const [preprocessor, processor, generation] = await Promise.all([
    requireJson(folder, "preprocessor_config.json", signal),
    readJson(folder, "processor_config.json", signal),
    readJson(folder, "generation_config.json", signal),
  ]);
  const files: HfFiles = {
    config,
    preprocessor: preprocessor as Json,
    processor: (processor ?? {}) as Json,
    generation: (generation ?? {}) as Json,
  };
  // The folder's last segment as a spec name (lower-case kebab), whatever the host called it.
  const name = (folder.location.replace(/\/$/, "").split(/[/:]/).pop() ?? "").toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-").replace(/^[^a-z0-9]+|-+$/g, "") || "model";
  const layout = layoutNamed(codec.layout);
  const modules = layout.modules;
  let dtype = options.dtype;
  if (dtype === undefined && folder.has) {
    const has = folder.has.bind(folder);
    const bases = Object.fromEntries(modules.map((m) => [m, layout.files[m]]));
    dtype = await detectDtype(bases, (path) => has(path, signal), folder.location);
  }
  const spec = specFromHfFiles(
    files,
    tokenizer,
    name,
    dtypesFor(modules, dtype),
    folder.location,
  );
  codec.check(files, resolve(spec));
  return spec;
}

/**
 * Reads what `folder` describes. `dtype` picks the module files; without it,
 * a modular folder takes its manifest's choice and a published-layout folder
 * the form its files hold (see `DTYPE_PREFERENCE` when it holds several;
 * fp32 for folder objects that cannot test for files).
 */
export async function describeModelFolder(
  folder: ModelFolder,
  options: { dtype?: DtypeChoice; signal?: AbortSignal } = {},
): Promise<ModelDescription> {
  const [manifest, config] = await Promise.all([
    readJson(folder, MODULAR_MANIFEST_FILE, options.signal),
    readJson(folder, "config.json", options.signal),
  ]);
  if (manifest === undefined && config === undefined) {
    throw new VlmError(
      "model_invalid",
      `${folder.location} is not a model folder: it has neither config.json (hf-idefics3) nor ${MODULAR_MANIFEST_FILE} (modular)`,
      { fix: "point at the folder that holds the model's config files" },
    );
  }
  const text = await readTextFiles(folder, options.signal);
  const spec = manifest
    ? specFromManifest(manifest as Json, options.dtype)
    : await hfSpec(folder, text.tokenizer, config as Json, options);
  return { spec, ...text, modular: manifest !== undefined };
}
