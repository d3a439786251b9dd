/**
 * `loadModel`: opens a model folder — hf-idefics3 (Hugging Face configs) or
 * modular (`vlmkit.json` manifest) — checks every session against the Plan,
 * and returns a {@linkcode VlmModel}.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { type Encoder, FUSED_PROJECTOR, type Projector } from "../modules/types.ts";
import { OnnxDecoder, SHARED_KV_AXIS } from "../modules/onnx_decoder.ts";
import { OnnxEmbedder } from "../modules/onnx_embedder.ts";
import { OnnxProjector } from "../modules/onnx_projector.ts";
import { OnnxTileEncoder } from "../modules/onnx_tile_encoder.ts";
import { OnnxVisionEncoder } from "../modules/onnx_vision_encoder.ts";
import { tilesPerRun } from "../modules/tile_chunks.ts";
import type { Plan } from "../spec/plan.ts";
import { resolve } from "../spec/resolve.ts";
import { layoutOf } from "../families/registry.ts";
import { type Backend, type BackendOptions, loadBackend, type OrtSession } from "./backend.ts";
import { isModelFolder, type ModelFolder, openModelFolder } from "./model_folder.ts";
import { checkLoadOptions } from "./load_options.ts";
import { describeModelFolder, type DtypeChoice, MODULAR_MANIFEST_FILE } from "./model_spec.ts";
import { VlmModel } from "./model.ts";
import type { TaskPlugin } from "./tasks/contract.ts";
import { wasmMemoryEstimate } from "./wasm_memory.ts";
import { moduleContracts } from "./module_contracts.ts";
import { assertContracts, contractProblems, describeTensors } from "./session_contract.ts";

/** Options for {@linkcode loadModel}. */
export interface LoadModelOptions extends BackendOptions {
  /** Weight format for every module, or per module (default fp32, or the manifest's for modular folders). */
  dtype?: DtypeChoice;
  /** Pixel limit for input images (default 50 MP). */
  maxPixels?: number;
  /** Images whose features are kept for reuse (default 8; 0 disables). */
  featureCacheSize?: number;
  /** Reuse the previous request's KV cache for a shared prompt prefix (default true). */
  reusePrefix?: boolean;
  /** Cancels loading. */
  signal?: AbortSignal;
  /** Task plugins to register (`model.task(name, input)`); nothing is registered implicitly. */
  plugins?: readonly TaskPlugin<unknown>[];
}

/**
 * Whether the decoder's cache can live in shared buffers: the graph declares
 * GQA's present length, and the backend binds preallocated outputs to JS
 * memory (onnxruntime-node; the wasm binding copies feeds into its heap).
 */
function sharedKvBuffer(backend: Backend, decoder: OrtSession): boolean {
  const present = decoder.outputMetadata.find((m) => m.name === "present.0.key");
  return backend.name === "native" && present?.isTensor === true &&
    present.shape[2] === SHARED_KV_AXIS;
}

async function openSession(
  backend: Backend,
  folder: ModelFolder,
  path: string,
  signal?: AbortSignal,
): Promise<OrtSession> {
  // Native sessions (and host runtimes that say so) read local files themselves, external
  // data included: no JS copy of the weights, which halves load time and peak memory for 1 GB.
  if (backend.readsFiles && folder.localPath) {
    const local = await folder.localPath(path);
    if (local) return await backend.createSession({ name: path, path: local });
  }
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

/** The pipeline modules over the opened sessions, by the roles the plan's layout gives them. */
function pipelineModules(plan: Plan, sessions: Record<string, OrtSession>, backend: Backend) {
  const roles = layoutOf(plan.spec).roles;
  const visionDtype = plan.files.find((f) => f.module === roles.vision)?.dtype ?? "fp32";
  // 8-bit exports quantize activations with one scale per call: the features of a tile then
  // depend on the other tiles of the call, so those run every tile at once, as the reference does.
  const perCallScale = visionDtype === "int8" || visionDtype === "uint8" || visionDtype === "q8";
  const chunk = perCallScale ? Number.MAX_SAFE_INTEGER : tilesPerRun(plan.encoder.patchesPerTile);
  // A layout without a projector session fuses it into the vision session.
  const encoder: Encoder = roles.projector === null
    ? new OnnxVisionEncoder(sessions[roles.vision], backend.ort, chunk, plan.tokensPerTile)
    : new OnnxTileEncoder(sessions[roles.vision], backend.ort, chunk);
  const projector: Projector = roles.projector === null ? FUSED_PROJECTOR : new OnnxProjector(
    sessions[roles.projector],
    backend.ort,
    plan.encoder.patchesPerTile,
    plan.tokensPerTile,
  );
  return {
    encoder,
    projector,
    embedder: new OnnxEmbedder(sessions[roles.embed], backend.ort),
    decoderSession: sessions[roles.decoder],
  };
}

/**
 * Loads a model folder (local path, `file:` or `http(s):` URL, `hf:owner/name[@revision]`,
 * pulled into the local cache first with only the files the requested dtypes need, or a
 * {@linkcode ModelFolder} object through which the host serves the files itself):
 *
 * - hf-idefics3: `config.json`, `preprocessor_config.json`,
 *   `processor_config.json`, `tokenizer.json`, a chat template and
 *   `onnx/{vision_encoder,embed_tokens,decoder_model_merged}<suffix>.onnx`;
 * - modular: `vlmkit.json` (the variant spec), `tokenizer.json`, a chat
 *   template and `onnx/{encoder,projector,embed_tokens,decoder}<suffix>.onnx`.
 *
 * Unknown option names and bad option values are refused with a `usage` error.
 */
export async function loadModel(
  source: string | URL | ModelFolder,
  options: LoadModelOptions = {},
): Promise<VlmModel> {
  const started = performance.now();
  checkLoadOptions(options);
  const { signal } = options;
  if (typeof source === "string" && source.startsWith("hf:")) {
    // Loaded on demand: the Hub client is only needed for hf: sources.
    const { resolveHfSource } = await import("../hub/hf_source.ts");
    source = await resolveHfSource(source, { dtype: options.dtype, signal });
  }
  const folder = isModelFolder(source) ? source : openModelFolder(source);
  const { spec, tokenizer, template, modular } = await describeModelFolder(folder, options);
  const plan = resolve(spec);
  if ((options.backend ?? "wasm") === "wasm") {
    const memory = wasmMemoryEstimate(plan);
    if (!memory.possible) {
      const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(1);
      throw new VlmError(
        "model_too_large",
        `${spec.name}: ${
          gib(memory.weightBytes)
        } GiB of weights do not fit the wasm backend, whose memory ends at 4 GiB (wasm32)`,
        { fix: "use the native backend (--backend native), or a smaller dtype such as q4" },
      );
    }
  }

  const backend = await loadBackend({ backend: options.backend, threads: options.threads });
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
      modular
        ? `use ONNX files built for the spec in ${MODULAR_MANIFEST_FILE}`
        : "use ONNX files exported from the model whose config.json is in this folder",
    );
    const { layers, kvHeads, headDim, contextLength } = plan.spec.decoder;
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
        kvBuffer: sharedKvBuffer(backend, decoderSession) ? "shared" : "copy",
        contextLength,
      }),
      loadMs: performance.now() - started,
      maxPixels: options.maxPixels,
      featureCacheSize: options.featureCacheSize ?? 8,
      reusePrefix: options.reusePrefix ?? true,
      plugins: options.plugins,
    });
  } catch (error) {
    await Promise.all(Object.values(sessions).map((s) => s.release().catch(() => {})));
    throw error;
  }
}
