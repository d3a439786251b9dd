/**
 * `loadModel`: opens a model folder in the hf-idefics3 layout, checks every
 * session against the Plan derived from its configs, and returns a
 * {@linkcode VlmModel}.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { FUSED_PROJECTOR } from "../modules/types.ts";
import { OnnxDecoder } from "../modules/onnx_decoder.ts";
import { OnnxEmbedder } from "../modules/onnx_embedder.ts";
import { OnnxVisionEncoder } from "../modules/onnx_vision_encoder.ts";
import type { Plan } from "../spec/plan.ts";
import { resolve } from "../spec/resolve.ts";
import type { Dtype } from "../spec/types.ts";
import { ChatTemplate } from "../text/chat_template.ts";
import { TextTokenizer } from "../text/tokenizer.ts";
import { type Backend, type BackendOptions, loadBackend, type OrtSession } from "./backend.ts";
import { type HfFiles, specFromHfFiles } from "./hf_config.ts";
import { type ModelFolder, openModelFolder, readJson, requireJson } from "./model_folder.ts";
import { VlmModel } from "./model.ts";
import {
  assertContracts,
  contractProblems,
  describeTensors,
  type ExpectedTensor,
} from "./session_contract.ts";

/** The three sessions of the hf-idefics3 layout. */
export type HfModule = "vision_encoder" | "embed_tokens" | "decoder_model_merged";

/** Options for {@linkcode loadModel}. */
export interface LoadModelOptions extends BackendOptions {
  /** Weight format for every module, or per module (default fp32). */
  dtype?: Dtype | Partial<Record<HfModule, Dtype>>;
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

/** Expected I/O of each hf-idefics3 session, from the Plan. */
function expectedContracts(plan: Plan, cacheType: string) {
  const T = plan.spec.image.tileSize;
  const H = plan.spec.decoder.hidden;
  const { layers, kvHeads, headDim, vocab } = plan.spec.decoder;
  const floats = ["float32", "float16"];
  const vision: { inputs: ExpectedTensor[]; outputs: ExpectedTensor[] } = {
    inputs: [
      { name: "pixel_values", types: floats, dims: [null, null, 3, T, T] },
      { name: "pixel_attention_mask", types: ["bool"], dims: [null, null, T, T] },
    ],
    outputs: [{ name: "image_features", types: floats, dims: [null, H] }],
  };
  const embed = {
    inputs: [{ name: "input_ids", types: ["int64"], dims: [null, null] }],
    outputs: [{ name: "inputs_embeds", types: floats, dims: [null, null, H] }],
  };
  const cache: ExpectedTensor[] = [];
  const present: ExpectedTensor[] = [];
  for (let i = 0; i < layers; i++) {
    for (const part of ["key", "value"]) {
      cache.push({
        name: `past_key_values.${i}.${part}`,
        types: [cacheType],
        dims: [null, kvHeads, null, headDim],
      });
      present.push({
        name: `present.${i}.${part}`,
        types: [cacheType],
        dims: [null, kvHeads, null, headDim],
      });
    }
  }
  const decoder = {
    inputs: [
      { name: "inputs_embeds", types: ["float32"], dims: [null, null, H] },
      { name: "attention_mask", types: ["int64"], dims: [null, null] },
      { name: "position_ids", types: ["int64"], dims: [null, null] },
      ...cache,
    ],
    outputs: [{ name: "logits", types: floats, dims: [null, null, vocab] }, ...present],
  };
  return { vision_encoder: vision, embed_tokens: embed, decoder_model_merged: decoder };
}

/**
 * Loads a model folder (local path, `file:` or `http(s):` URL) in the
 * hf-idefics3 layout: `config.json`, `preprocessor_config.json`,
 * `processor_config.json`, `tokenizer.json`, a chat template and
 * `onnx/{vision_encoder,embed_tokens,decoder_model_merged}<suffix>.onnx`.
 */
export async function loadModel(
  source: string | URL,
  options: LoadModelOptions = {},
): Promise<VlmModel> {
  const started = performance.now();
  const { signal } = options;
  const folder = openModelFolder(source);
  const [config, preprocessor, processor, generation, tokenizerJson, tokenizerConfig, chatJson] =
    await Promise.all([
      requireJson(folder, "config.json", signal),
      requireJson(folder, "preprocessor_config.json", signal),
      readJson(folder, "processor_config.json", signal),
      readJson(folder, "generation_config.json", signal),
      requireJson(folder, "tokenizer.json", signal),
      readJson(folder, "tokenizer_config.json", signal),
      readJson(folder, "chat_template.json", signal),
    ]);
  const files: HfFiles = {
    config: config as Json,
    preprocessor: preprocessor as Json,
    processor: (processor ?? {}) as Json,
    generation: (generation ?? {}) as Json,
  };
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
  const template = new ChatTemplate(templateSource, specialTokens);
  const name = folder.location.replace(/\/$/, "").split("/").pop() || "model";
  const spec = specFromHfFiles(files, tokenizer, name, dtypesFor(options.dtype));
  const plan = resolve(spec);
  const seqLen = files.processor.image_seq_len;
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

  const backend = await loadBackend(options);
  const sessions = {} as Record<HfModule, OrtSession>;
  try {
    for (const file of plan.files) {
      sessions[file.module as HfModule] = await openSession(backend, folder, file.path, signal);
    }
    const cacheMeta = sessions.decoder_model_merged.inputMetadata.find((m) =>
      m.name === "past_key_values.0.key"
    );
    const cacheType = cacheMeta?.isTensor ? cacheMeta.type : "float32";
    const contracts = expectedContracts(plan, cacheType);
    const problems: string[] = [];
    for (const file of plan.files) {
      const session = sessions[file.module as HfModule];
      const want = contracts[file.module as HfModule];
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
      "use ONNX files exported from the model whose config.json is in this folder",
    );
    const { layers, kvHeads, headDim } = plan.spec.decoder;
    return new VlmModel({
      plan,
      tokenizer,
      template,
      backend,
      sessions: Object.values(sessions),
      encoder: new OnnxVisionEncoder(sessions.vision_encoder, backend.ort),
      projector: FUSED_PROJECTOR,
      embedder: new OnnxEmbedder(sessions.embed_tokens, backend.ort),
      decoder: new OnnxDecoder(sessions.decoder_model_merged, backend.ort, {
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
