/**
 * `loadModel`: opens a model folder — hf-idefics3 (Hugging Face configs) or
 * modular (`vlmkit.json` manifest) — checks every session against the Plan,
 * and returns a {@linkcode VlmModel}.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { type Embedder, type Encoder, FUSED_PROJECTOR, type Projector } from "../modules/types.ts";
import {
  KV_ROWS_AXIS,
  OnnxDecoder,
  PREFILL_CHUNK,
  SHARED_KV_AXIS,
} from "../modules/onnx_decoder.ts";
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
import { openEmbeddingTable } from "./embedding_table.ts";
import { hubResolveUrl } from "../hub/hub_url.ts";
import { platform } from "../platform/current.ts";
import { kernelMissingError, missingKernel } from "./kernel_error.ts";
import type { Dtype } from "../spec/types.ts";
import { describeModelFolder, type DtypeChoice, MODULAR_MANIFEST_FILE } from "./model_spec.ts";
import { VlmModel } from "./model.ts";
import type { TaskPlugin } from "./tasks/contract.ts";
import { wasmMemoryEstimate } from "./wasm_memory.ts";
import { defaultMaxTiles } from "./edge_defaults.ts";
import { releaseBuffer } from "./release_buffer.ts";
import { moduleContracts } from "./module_contracts.ts";
import { assertContracts, contractProblems, describeTensors } from "./session_contract.ts";
import type { Q4Kernel } from "./load_options.ts";
import { applyQ4Kernel, type Q4KernelReport, repacksQ4 } from "./q4_kernel.ts";
import { externalizeWeights, type ExternalWeights } from "./external_weights.ts";
import { WireError } from "../onnx/protobuf_wire.ts";
import { type KvRowsForm, kvRowsForm } from "./kv_rows_rewrite.ts";

/** Options for {@linkcode loadModel}. */
export interface LoadModelOptions extends BackendOptions {
  /**
   * Weight format for every module, or per module. Default: the manifest's for modular
   * folders, else the first form the folder has a file of for every module (fp32 first;
   * fp32 for folder objects without `has`).
   */
  dtype?: DtypeChoice;
  /**
   * How 4-bit weights (MatMulNBits: q4, q4f16; MatMulBnb4: bnb4) run: `auto` (default)
   * re-packs them at load to int8
   * with per-column scales on the wasm backend, whose 4-bit kernel is ~17× slower per
   * decode step than its int8 one, and keeps them on native and host runtimes; `int8`
   * re-packs on every backend; `original` keeps the published kernel everywhere. What was
   * done is in `model.q4Kernels`.
   */
  q4Kernel?: Q4Kernel;
  /** Pixel limit for input images (default 50 MP). */
  maxPixels?: number;
  /**
   * Image budget: most tiles per image, a request's `maxTiles` overriding it
   * (default 5 on the wasm backend, no cap on native and host runtimes; 1 =
   * unsplit, Infinity = the model's full split).
   */
  maxTiles?: number;
  /** Images whose features are kept for reuse (default 8; 0 disables). */
  featureCacheSize?: number;
  /**
   * How token embeddings are computed: `table` (default) gathers rows of the
   * embed_tokens file's table in JS when its graph is a plain (or dequantized)
   * row gather, read from disk for local folders and held once in JS memory
   * otherwise, never inside the wasm heap; other graphs, and `session`, run
   * the file in an ONNX Runtime session.
   */
  embedding?: "table" | "session";
  /**
   * Where the decoder's KV cache lives: `auto` (default) in capacity buffers
   * reused across steps when the decoder graph is the builder's
   * (GroupQueryAttention declaring its present length). They are fed whole
   * as past, and the graph is rewritten at load to return only each step's
   * new rows, so no step copies the whole cache into new JS memory; each
   * float32 GroupQueryAttention is then written as plain ops over the buffer,
   * faster on both backends than GQA fed a separate past. On native, a
   * decoder with external data is read by ONNX Runtime itself and GQA appends
   * to the buffers in place instead. `copy`: a new present cache per step
   * (the Hugging Face contract, and what published exports always use). The
   * choice made is in `model.kvCache`.
   */
  kvCache?: "auto" | "copy";
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

/** How the decoder session holds its cache (see `kvCache`): rows when its graph was rewritten. */
function kvBufferOf(backend: Backend, decoder: OrtSession): "shared" | "rows" | "copy" {
  const present = decoder.outputMetadata.find((m) => m.name === "present.0.key");
  if (present?.isTensor === true && present.shape[2] === KV_ROWS_AXIS) return "rows";
  return sharedKvBuffer(backend, decoder) ? "shared" : "copy";
}

/** Opens `file`'s session; a missing kernel becomes an error naming its dtype and the backend. */
async function openSession(
  backend: Backend,
  folder: ModelFolder,
  file: { path: string; dtype: Dtype },
  signal: AbortSignal | undefined,
  ownsBytes: boolean,
  q4: Q4Choice,
  kvRows?: KvRowsChoice,
): Promise<OrtSession> {
  try {
    return await createSession(backend, folder, file.path, signal, ownsBytes, q4, kvRows);
  } catch (error) {
    const op = missingKernel(String((error as Error)?.message ?? error));
    if (op === undefined) throw error;
    throw kernelMissingError(file.path, file.dtype, backend.name, op, error);
  }
}

/** The `q4Kernel` choice and where to report what it did. */
interface Q4Choice {
  repack: boolean;
  reports: Q4KernelReport[];
}

/** Asks for the decoder's KV-rows form; once rewritten, what it got. */
interface KvRowsChoice {
  form?: Omit<KvRowsForm, "bytes">;
}

async function createSession(
  backend: Backend,
  folder: ModelFolder,
  path: string,
  signal: AbortSignal | undefined,
  ownsBytes: boolean,
  q4: Q4Choice,
  kvRows: KvRowsChoice | undefined,
): Promise<OrtSession> {
  // Native sessions (and host runtimes that say so) read local files themselves, external
  // data included: no JS copy of the weights, which halves load time and peak memory for 1 GB.
  if (backend.readsFiles && folder.localPath && !q4.repack) {
    const local = await folder.localPath(path);
    // The new-rows rewrite needs the graph's bytes: they are read when the weights are
    // inline; a decoder with external data keeps ORT's own file reading (and the shared buffer).
    const rewrite = kvRows !== undefined && !(await folder.localPath(`${path}_data`));
    if (local && !rewrite) return await backend.createSession({ name: path, path: local });
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
  let model = bytes;
  if (q4.repack) {
    const applied = applyQ4Kernel(path, bytes, externalData, backend.name);
    if (applied.report) q4.reports.push(applied.report);
    // The original bytes are not needed once re-packed: free them before ORT copies the new.
    if (applied.bytes !== bytes && ownsBytes) releaseBuffer(bytes);
    model = applied.bytes;
  }
  // On wasm the weights go in as external data, copied once into their tensors, rather than
  // as the whole file copied into the heap and parsed there (see external_weights.ts).
  const split = backend.name === "wasm" ? weightsOutside(model, path) : undefined;
  // Rewritten after the split: only the graph's bytes are copied, not the weights.
  const rows = kvRows ? kvRowsGraph(split?.graph ?? model) : undefined;
  // The facts only: the rewritten bytes are released once the session has them.
  if (rows && kvRows) kvRows.form = { attention: rows.attention, perRunScales: rows.perRunScales };
  const graph = rows?.bytes;
  const session = await backend.createSession({
    name: path,
    bytes: graph ?? split?.graph ?? model,
    externalData: split ? [...(externalData ?? []), split.weights] : externalData,
  });
  // onnxruntime-web has copied the graph and the weights into its heap (and dropped its
  // references): ours, when no caller's folder shares them, go at once. Other runtimes may
  // keep a reference.
  releaseBuffer(split?.graph);
  releaseBuffer(graph);
  if (backend.name === "wasm" && (ownsBytes || model !== bytes)) {
    releaseBuffer(model);
    if (ownsBytes) releaseBuffer(data);
  }
  return session;
}

/** The decoder returning only each step's new KV rows, or undefined when its graph is not covered. */
function kvRowsGraph(model: Uint8Array): KvRowsForm | undefined {
  try {
    return kvRowsForm(model, "ops");
  } catch (error) {
    if (error instanceof WireError) return undefined;
    throw error;
  }
}

/** `model` split into graph and external weights; as it is when it does not parse. */
function weightsOutside(model: Uint8Array, path: string): ExternalWeights | undefined {
  try {
    // A name no model file uses: the weights' "file" is the model's own bytes.
    return externalizeWeights(model, `${path.split("/").pop()}.vlmkit_weights`);
  } catch (error) {
    if (error instanceof WireError) return undefined;
    throw error;
  }
}

/**
 * The files in the order to open them: the largest first (by parameters). On
 * wasm the heap never shrinks, and the transient copies of a file being
 * parsed are freed into it; opened first, the largest file's transient space
 * is reused by the smaller files' instead of stacking on top of them.
 */
function loadOrder(plan: Plan): Plan["files"] {
  const roles = layoutOf(plan.spec).roles;
  const { encoder, projector, decoder } = plan.params;
  const size = (module: string) =>
    module === roles.decoder
      ? decoder.total - decoder.embedding
      : module === roles.vision
      ? encoder.total + (roles.projector === null ? projector.total : 0)
      : module === roles.projector
      ? projector.total
      : decoder.embedding;
  return [...plan.files].sort((a, b) => size(b.module) - size(a.module));
}

/** `folder`, answering reads of the files in `spare` (once) from there. */
function spareFirst(folder: ModelFolder, spare: Map<string, Uint8Array>): ModelFolder {
  if (spare.size === 0) return folder;
  return {
    location: folder.location,
    read(path, signal) {
      const bytes = spare.get(path);
      spare.delete(path);
      return bytes ? Promise.resolve(bytes) : folder.read(path, signal);
    },
    ...(folder.localPath ? { localPath: (path: string) => folder.localPath!(path) } : {}),
    ...(folder.has ? { has: (path: string, s?: AbortSignal) => folder.has!(path, s) } : {}),
  };
}

/** The pipeline modules over the opened sessions, by the roles the plan's layout gives them. */
function pipelineModules(
  plan: Plan,
  sessions: Record<string, OrtSession>,
  backend: Backend,
  table: Embedder | undefined,
) {
  const roles = layoutOf(plan.spec).roles;
  const visionDtype = plan.files.find((f) => f.module === roles.vision)?.dtype ?? "fp32";
  // 8-bit exports quantize activations with one scale per call: the features of a tile then
  // depend on the other tiles of the call, so native runs every tile at once, as the reference
  // does. On wasm memory comes first (all 13 tiles of a photo at once reach 2.4 GiB): bounded
  // calls there too, at the cost of per-call scales that differ from the reference's.
  const perCallScale = visionDtype === "int8" || visionDtype === "uint8" || visionDtype === "q8";
  const chunk = perCallScale && backend.name !== "wasm"
    ? Number.MAX_SAFE_INTEGER
    : tilesPerRun(plan.encoder.patchesPerTile);
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
    embedder: table ?? new OnnxEmbedder(sessions[roles.embed], backend.ort),
    decoderSession: sessions[roles.decoder],
  };
}

/**
 * Loads a model folder (local path, `file:` or `http(s):` URL, `hf:owner/name[@revision]`,
 * pulled into the local cache first with only the files the requested dtypes need — or,
 * without a file system or in a `vlm bundle` build, read straight from
 * `$HF_ENDPOINT/owner/name/resolve/revision/` over fetch (public repos) — or a
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
    // Loaded on demand: the Hub client is only needed for hf: sources. Without a file
    // system (or in a bundle, which leaves the client out) the repo is read over fetch.
    const { resolveHfSource } = await import("../hub/hf_source.ts");
    // (A bundle's stand-in for the Hub client resolves to undefined.)
    const local: string | undefined = platform().fileSystem
      ? await resolveHfSource(source, { dtype: options.dtype, signal })
      : undefined;
    source = local ?? hubResolveUrl(source);
  }
  const folder = isModelFolder(source) ? source : openModelFolder(source);
  const { spec, tokenizer, template, modular } = await describeModelFolder(folder, options);
  const plan = resolve(spec);
  if ((options.backend ?? "wasm") === "wasm") {
    const memory = wasmMemoryEstimate(plan, {
      embedding: options.embedding,
      q4Kernel: options.q4Kernel,
    });
    if (!memory.possible) {
      const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(1);
      throw new VlmError(
        "model_too_large",
        `${spec.name}: ${
          gib(memory.residentBytes)
        } GiB of weights do not fit the wasm backend, whose memory ends at 4 GiB (wasm32)`,
        { fix: "use the native backend (--backend native), or a smaller dtype such as q4" },
      );
    }
  }

  const backend = await loadBackend({ backend: options.backend, threads: options.threads });
  const sessions: Record<string, OrtSession> = {};
  const embedRole = layoutOf(plan.spec).roles.embed;
  let table: Awaited<ReturnType<typeof openEmbeddingTable>>;
  const q4: Q4Choice = { repack: repacksQ4(options.q4Kernel, backend.name), reports: [] };
  const kvRows: KvRowsChoice = {};
  try {
    for (const file of loadOrder(plan)) {
      let from = folder;
      if (file.module === embedRole && (options.embedding ?? "table") === "table") {
        const spare = new Map<string, Uint8Array>();
        table = await openEmbeddingTable(folder, file.path, { signal, spare });
        if (table) continue;
        from = spareFirst(folder, spare);
      }
      sessions[file.module] = await openSession(
        backend,
        from,
        file,
        signal,
        folder !== source,
        q4,
        // Both bindings copy every output into new JS memory after a run (the native one even
        // a bound output): the decoder returns only each step's new rows.
        file.module === layoutOf(plan.spec).roles.decoder &&
          (backend.name === "wasm" || backend.name === "native") &&
          (options.kvCache ?? "auto") === "auto"
          ? kvRows
          : undefined,
      );
    }
    const { encoder, projector, embedder, decoderSession } = pipelineModules(
      plan,
      sessions,
      backend,
      table?.embedder,
    );
    const cacheMeta = decoderSession.inputMetadata.find((m) => m.name === "past_key_values.0.key");
    const cacheType = cacheMeta?.isTensor ? cacheMeta.type : "float32";
    const contracts = moduleContracts(plan, cacheType);
    const problems: string[] = [];
    for (const file of plan.files) {
      const session = sessions[file.module];
      const want = contracts[file.module];
      // A table embedder's file has the recognised graph's one input and output.
      const ids = { name: "input_ids", type: "int64", dims: ["batch_size", "sequence_length"] };
      const embeds = (t: NonNullable<typeof table>) => ({
        name: "inputs_embeds",
        type: t.output,
        dims: ["batch_size", "sequence_length", t.embedder.hidden],
      });
      problems.push(
        ...contractProblems(
          file.path,
          "input",
          session ? describeTensors(session.inputMetadata) : [ids],
          want.inputs,
        ),
        ...contractProblems(
          file.path,
          "output",
          session ? describeTensors(session.outputMetadata) : [embeds(table!)],
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
      sessions: [...Object.values(sessions), ...(table ? [table.embedder] : [])],
      encoder,
      projector,
      embedder,
      decoder: new OnnxDecoder(decoderSession, backend.ort, {
        layers,
        kvHeads,
        headDim,
        cacheType: cacheType === "float16" ? "float16" : "float32",
        kvBuffer: (options.kvCache ?? "auto") === "copy"
          ? "copy"
          : kvBufferOf(backend, decoderSession),
        contextLength,
        // Plain-ops attention scores a prompt's rows against every fed key: long prompts go in
        // chunks. GQA attends causally itself; one activation scale per run would make a
        // chunked prompt's logits differ from the one-pass reference.
        ...(kvRows.form?.attention === "ops" && !kvRows.form.perRunScales
          ? { prefillChunk: PREFILL_CHUNK }
          : {}),
      }),
      loadMs: performance.now() - started,
      q4Kernels: q4.reports,
      maxPixels: options.maxPixels,
      maxTiles: options.maxTiles ?? defaultMaxTiles(backend.name),
      featureCacheSize: options.featureCacheSize ?? 8,
      reusePrefix: options.reusePrefix ?? true,
      plugins: options.plugins,
    });
  } catch (error) {
    await Promise.all(Object.values(sessions).map((s) => s.release().catch(() => {})));
    await table?.embedder.release();
    throw error;
  }
}
