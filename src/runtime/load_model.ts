/**
 * `loadModel`: opens a model folder — hf-idefics3 (Hugging Face configs) or
 * modular (`vlmkit.json` manifest) — checks every session against the Plan,
 * and returns a {@linkcode VlmModel}.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { type Encoder, FUSED_PROJECTOR, type Projector } from "../modules/types.ts";
import { OnnxDecoder } from "../modules/onnx_decoder.ts";
import { OnnxEmbedder } from "../modules/onnx_embedder.ts";
import { OnnxProjector } from "../modules/onnx_projector.ts";
import { OnnxTileEncoder } from "../modules/onnx_tile_encoder.ts";
import { OnnxVisionEncoder } from "../modules/onnx_vision_encoder.ts";
import type { Plan } from "../spec/plan.ts";
import { resolve } from "../spec/resolve.ts";
import type { Dtype, VariantSpec } from "../spec/types.ts";
import { parseSpec } from "../spec/validate.ts";
import { ChatTemplate } from "../text/chat_template.ts";
import { TextTokenizer } from "../text/tokenizer.ts";
import { type Backend, type BackendOptions, loadBackend, type OrtSession } from "./backend.ts";
import { type HfFiles, specFromHfFiles } from "./hf_config.ts";
import { type ModelFolder, openModelFolder, readJson, requireJson } from "./model_folder.ts";
import { VlmModel } from "./model.ts";
import { moduleContracts } from "./module_contracts.ts";
import { assertContracts, contractProblems, describeTensors } from "./session_contract.ts";

/** The three sessions of the hf-idefics3 layout. */
export type HfModule = "vision_encoder" | "embed_tokens" | "decoder_model_merged";

/** The four sessions of the modular layout. */
export type ModularModule = "encoder" | "projector" | "embed_tokens" | "decoder";

/** The manifest file that marks a modular folder. */
export const MODULAR_MANIFEST_FILE = "vlmkit.json";

/** Options for {@linkcode loadModel}. */
export interface LoadModelOptions extends BackendOptions {
  /** Weight format for every module, or per module (default fp32, or the manifest's for modular folders). */
  dtype?: Dtype | Partial<Record<HfModule | ModularModule, Dtype>>;
  /** Pixel limit for input images (default 50 MP). */
  maxPixels?: number;
  /** Images whose features are kept for reuse (default 8; 0 disables). */
  featureCacheSize?: number;
  /** Reuse the previous request's KV cache for a shared prompt prefix (default true). */
  reusePrefix?: boolean;
  /** Cancels loading. */
  signal?: AbortSignal;
}

type Json = Record<string, unknown>;

/** The modular manifest's spec, with module dtypes overridden by the option. */
function specFromManifest(manifest: Json, option: LoadModelOptions["dtype"]): VariantSpec {
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

function dtypesFor(option: LoadModelOptions["dtype"]): Record<HfModule, Dtype> {
  const base: Dtype = typeof option === "string" ? option : "fp32";
  const perModule = typeof option === "object" ? option : {};
  return {
    vision_encoder: perModule.vision_encoder ?? base,
    embed_tokens: perModule.embed_tokens ?? base,
    decoder_model_merged: perModule.decoder_model_merged ?? base,
  };
}

async function openSession(
  backend: Backend,
  folder: ModelFolder,
  path: string,
  signal?: AbortSignal,
): Promise<OrtSession> {
  const bytes = await folder.read(path, signal);
  if (!bytes) {
    throw new VlmError("model_invalid", `${folder.location} has no ${path}`, {
      fix: "download that file, or pick a dtype the folder has (dtype option / --dtype)",
    });
  }
  // External weights follow the transformers.js naming: `<file>_data`.
  const dataPath = `${path}_data`;
  const data = await folder.read(dataPath, signal);
  const externalData = data ? [{ path: dataPath.split("/").pop()!, data }] : undefined;
  return await backend.createSession({ name: path, bytes, externalData });
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

/** The spec of an hf-idefics3 folder, from its Hugging Face config files. */
async function hfSpec(
  folder: ModelFolder,
  tokenizer: TextTokenizer,
  options: LoadModelOptions,
): Promise<VariantSpec> {
  const { signal } = options;
  const [config, preprocessor, processor, generation] = await Promise.all([
    requireJson(folder, "config.json", signal),
    requireJson(folder, "preprocessor_config.json", signal),
    readJson(folder, "processor_config.json", signal),
    readJson(folder, "generation_config.json", signal),
  ]);
  const files: HfFiles = {
    config: config as Json,
    preprocessor: preprocessor as Json,
    processor: (processor ?? {}) as Json,
    generation: (generation ?? {}) as Json,
  };
  const name = folder.location.replace(/\/$/, "").split("/").pop() || "model";
  const spec = specFromHfFiles(files, tokenizer, name, dtypesFor(options.dtype));
  const seqLen = files.processor.image_seq_len;
  const plan = resolve(spec);
  if (seqLen !== undefined && seqLen !== plan.tokensPerTile) {
    throw new VlmError(
      "model_mismatch",
      `processor_config.json says image_seq_len ${seqLen}, but the encoder geometry gives ${plan.tokensPerTile} tokens per tile`,
      { fix: "restore processor_config.json or config.json from the same model" },
    );
  }
  if (plan.spec.tokens.image.id === null) {
    throw new VlmError("model_invalid", "config.json has no image_token_id", {
      fix: "restore config.json from the model's published copy",
    });
  }
  return spec;
}

/** The pipeline modules over the opened sessions of either layout. */
function pipelineModules(plan: Plan, sessions: Record<string, OrtSession>, backend: Backend) {
  const hf = plan.spec.artifacts.layout === "hf-idefics3";
  const encoder: Encoder = hf
    ? new OnnxVisionEncoder(sessions.vision_encoder, backend.ort)
    : new OnnxTileEncoder(sessions.encoder, backend.ort);
  const projector: Projector = hf
    ? FUSED_PROJECTOR
    : new OnnxProjector(sessions.projector, backend.ort, plan.encoder.patchesPerTile);
  return {
    encoder,
    projector,
    embedder: new OnnxEmbedder(sessions.embed_tokens, backend.ort),
    decoderSession: hf ? sessions.decoder_model_merged : sessions.decoder,
  };
}

/**
 * Loads a model folder (local path, `file:` or `http(s):` URL):
 *
 * - hf-idefics3: `config.json`, `preprocessor_config.json`,
 *   `processor_config.json`, `tokenizer.json`, a chat template and
 *   `onnx/{vision_encoder,embed_tokens,decoder_model_merged}<suffix>.onnx`;
 * - modular: `vlmkit.json` (the variant spec), `tokenizer.json`, a chat
 *   template and `onnx/{encoder,projector,embed_tokens,decoder}<suffix>.onnx`.
 */
export async function loadModel(
  source: string | URL,
  options: LoadModelOptions = {},
): Promise<VlmModel> {
  const started = performance.now();
  const { signal } = options;
  const folder = openModelFolder(source);
  const [manifest, text] = await Promise.all([
    readJson(folder, MODULAR_MANIFEST_FILE, signal),
    readTextFiles(folder, signal),
  ]);
  const { tokenizer, template } = text;
  const spec = manifest
    ? specFromManifest(manifest as Json, options.dtype)
    : await hfSpec(folder, tokenizer, options);
  const plan = resolve(spec);

  const backend = await loadBackend(options);
  const sessions: Record<string, OrtSession> = {};
  try {
    for (const file of plan.files) {
      sessions[file.module] = await openSession(backend, folder, file.path, signal);
    }
    const { encoder, projector, embedder, decoderSession } = pipelineModules(
      plan,
      sessions,
      backend,
    );
    const cacheMeta = decoderSession.inputMetadata.find((m) => m.name === "past_key_values.0.key");
    const cacheType = cacheMeta?.isTensor ? cacheMeta.type : "float32";
    const contracts = moduleContracts(plan, cacheType);
    const problems: string[] = [];
    for (const file of plan.files) {
      const session = sessions[file.module];
      const want = contracts[file.module];
      problems.push(
        ...contractProblems(
          file.path,
          "input",
          describeTensors(session.inputMetadata),
          want.inputs,
        ),
        ...contractProblems(
          file.path,
          "output",
          describeTensors(session.outputMetadata),
          want.outputs,
        ),
      );
    }
    assertContracts(
      problems,
      manifest
        ? `use ONNX files built for the spec in ${MODULAR_MANIFEST_FILE}`
        : "use ONNX files exported from the model whose config.json is in this folder",
    );
    const { layers, kvHeads, headDim } = plan.spec.decoder;
    return new VlmModel({
      plan,
      tokenizer,
      template,
      backend,
      sessions: Object.values(sessions),
      encoder,
      projector,
      embedder,
      decoder: new OnnxDecoder(decoderSession, backend.ort, {
        layers,
        kvHeads,
        headDim,
        cacheType: cacheType === "float16" ? "float16" : "float32",
      }),
      loadMs: performance.now() - started,
      maxPixels: options.maxPixels,
      featureCacheSize: options.featureCacheSize ?? 8,
      reusePrefix: options.reusePrefix ?? true,
    });
  } catch (error) {
    await Promise.all(Object.values(sessions).map((s) => s.release().catch(() => {})));
    throw error;
  }
}
