/**
 * A loaded vision-language model: `generate` for a whole answer, `stream`
 * for text as it is produced, `dispose` to release the sessions. Requests run
 * one at a time per model (ONNX sessions are not re-entrant).
 *
 * A request runs in three steps (`./request/`): prepare (pure: the prompt's
 * ids and the context budget, from the images' tile plans), encode (image
 * features behind the feature cache) and decode (prefill, then the token
 * loop). A request that cannot fit is refused before any encoder runs.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { packTiles } from "../image/processor.ts";
import type { Decoder, Embedder, Encoder, Projector } from "../modules/types.ts";
import type { Plan } from "../spec/plan.ts";
import type { ChatTemplate } from "../text/chat_template.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import type { TilePlan } from "../tokens/tiles.ts";
import type { Backend, OrtSession, RuntimeName } from "./backend.ts";
import { FeatureCache } from "./feature_cache.ts";
import type { GenerateRequest, GenerationResult, ImagePlan } from "./generation_types.ts";
import { GenerationStream } from "./generation_stream.ts";
import { runTask } from "./tasks/run_task.ts";
import type { TaskInput, TaskPlugin, TaskResult } from "./tasks/contract.ts";
import { Sampler } from "./sampler.ts";
import { abortIfNeeded } from "./request/abort.ts";
import {
  abortedBeforeDecoding,
  decode,
  type DecodeInput,
  type Emit,
  type LanguageModules,
} from "./request/decode.ts";
import { encodeImages, encodeTiles, tilePending, type VisionModules } from "./request/encode.ts";
import { readImages } from "./request/images.ts";
import type { PreviousRequest } from "./request/prefix_reuse.ts";
import { budgetedTokens, preparePrompt, type PromptContext, promptIds } from "./request/prepare.ts";
import { validateConversation, validateRequest, validateSettings } from "./request/validate.ts";
import type { Q4KernelReport } from "./q4_kernel.ts";

/** Everything a model is assembled from (see `loadModel`). */
export interface VlmModelParts {
  /** Plan of the model's spec. */
  plan: Plan;
  /** Tokenizer. */
  tokenizer: TextTokenizer;
  /** Chat template. */
  template: ChatTemplate;
  /** Runtime. */
  backend: Pick<Backend, "name">;
  /** Sessions to release on dispose. */
  sessions: Pick<OrtSession, "release">[];
  /** Vision tower. */
  encoder: Encoder;
  /** Connector. */
  projector: Projector;
  /** Token embeddings. */
  embedder: Embedder;
  /** Language model. */
  decoder: Decoder;
  /** Load time in ms. */
  loadMs: number;
  /** How each file's 4-bit matmuls run (files with MatMulNBits or MatMulBnb4 only). */
  q4Kernels?: readonly Q4KernelReport[];
  /** Pixel limit for images. */
  maxPixels?: number;
  /** Most tiles per image unless a request says otherwise (default: no cap). */
  maxTiles?: number;
  /** Feature cache capacity. */
  featureCacheSize: number;
  /** Default for prefix reuse. */
  reusePrefix: boolean;
  /** Task plugins callable through `task(name, input)`. */
  plugins?: readonly TaskPlugin<unknown>[];
}

/** The prompt ids and inputs of one request, as `--dump-inputs` writes them. */
export interface PreparedInputs {
  /** Token ids of the expanded prompt. */
  inputIds: number[];
  /** Normalised tiles `[tiles, 3, T, T]` of all images. */
  pixelValues: Float32Array;
  /** Tiles across all images. */
  tiles: number;
  /** Tile side. */
  tileSize: number;
  /** Tile plans per image. */
  plans: TilePlan[];
}

/** What `result.imagePlan` reports about the tiling of a request's images. */
function imagePlanOf(
  plans: readonly TilePlan[],
  maxTiles: number | undefined,
  plan: Plan,
): ImagePlan {
  return {
    images: plans.map(({ width, height, split, rows, cols, tiles }) => ({
      width,
      height,
      split,
      rows,
      cols,
      tiles,
      imageTokens: tiles * plan.tokensPerTile,
    })),
    tiles: plans.reduce((n, p) => n + p.tiles, 0),
    imageTokens: plans.reduce((n, p) => n + p.tiles * plan.tokensPerTile, 0),
    maxTiles: maxTiles === undefined || maxTiles === Infinity ? null : maxTiles,
  };
}

function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

/** A loaded model. Create with `loadModel`. */
export class VlmModel {
  /** The Plan of the model (shapes, token accounting, files). */
  readonly plan: Plan;
  /** The model's tokenizer. */
  readonly tokenizer: TextTokenizer;
  /** Which runtime runs the sessions: `wasm`, `native`, or `host` (a runtime the host supplied). */
  readonly backend: RuntimeName;
  /**
   * How each file's 4-bit (MatMulNBits, MatMulBnb4) weights run (see the `q4Kernel` load option):
   * re-packed to int8 at load, or kept; empty for models without them.
   */
  readonly q4Kernels: readonly Q4KernelReport[];
  /**
   * Where the decoder's KV cache lives (see the `kvCache` load option): `shared`
   * buffers GQA appends to in place (native, a decoder with external data),
   * `rows` buffers the new rows of each step are appended to (the graph
   * rewritten at load), or `copy` a new cache per step.
   */
  readonly kvCache: "shared" | "rows" | "copy";
  readonly #parts: VlmModelParts;
  readonly #prompt: PromptContext;
  readonly #vision: VisionModules;
  readonly #language: LanguageModules;
  readonly #features: FeatureCache;
  readonly #plugins = new Map<string, TaskPlugin<unknown>>();
  #queue: Promise<unknown> = Promise.resolve();
  #previous: PreviousRequest | undefined;
  #disposed = false;

  /** Assembles a model from loaded parts. */
  constructor(parts: VlmModelParts) {
    this.#parts = parts;
    for (const plugin of parts.plugins ?? []) {
      if (this.#plugins.has(plugin.name)) {
        throw new VlmError("usage", `two plugins are named "${plugin.name}"`, {
          fix: "register each task once",
        });
      }
      this.#plugins.set(plugin.name, plugin);
    }
    const { plan, tokenizer } = parts;
    this.plan = plan;
    this.tokenizer = tokenizer;
    this.backend = parts.backend.name;
    this.q4Kernels = parts.q4Kernels ?? [];
    const decoder = parts.decoder as { kvBuffer?: "shared" | "rows" | "copy" };
    this.kvCache = decoder.kvBuffer ?? "copy";
    this.#prompt = { plan, tokenizer, template: parts.template };
    this.#vision = { plan, encoder: parts.encoder, projector: parts.projector };
    this.#language = {
      plan,
      tokenizer,
      embedder: parts.embedder,
      decoder: parts.decoder,
      loadMs: parts.loadMs,
    };
    this.#features = new FeatureCache(parts.featureCacheSize);
  }

  /** Names of the registered task plugins. */
  get tasks(): string[] {
    return [...this.#plugins.keys()];
  }

  /**
   * Runs the registered task plugin `name` (see `loadModel`'s `plugins`
   * option): its hooks build the prompt, steer generation and type the result.
   */
  task<Output = unknown>(name: string, input: TaskInput): Promise<TaskResult<Output>> {
    const plugin = this.#plugins.get(name);
    if (!plugin) {
      return Promise.reject(
        new VlmError("usage", `no task "${name}" is registered on this model`, {
          fix: this.#plugins.size
            ? `use one of: ${this.tasks.join(", ")}`
            : "pass plugins to loadModel, e.g. { plugins: [ocr()] }",
        }),
      );
    }
    return runTask(this, plugin as TaskPlugin<Output>, input);
  }

  /** Generates a complete answer. Rejects with the signal's reason when `signal` aborts. */
  generate(request: GenerateRequest): Promise<GenerationResult> {
    return this.#exclusive(async () => {
      const result = await this.#run(request, () => {});
      if (result.finishReason === "aborted") abortIfNeeded(request.signal);
      return result;
    });
  }

  /**
   * Streams the answer: the returned stream yields text deltas, `tokens`
   * yields each token, and `result` resolves with the full result. When the
   * request's `signal` aborts or the text stream is cancelled, `result`
   * still resolves, with `finishReason: "aborted"` and the text streamed so
   * far; the text stream and the token iterator reject with the abort reason.
   */
  stream(request: GenerateRequest): GenerationStream {
    return new GenerationStream(
      (emit, signal) =>
        this.#exclusive(() =>
          this.#run({ ...request, signal }, emit).catch((error) => {
            // Aborted before the first token: nothing was streamed, and that is the result.
            if (signal.aborted && (error === signal.reason || isAbortError(error))) {
              return abortedBeforeDecoding(this.#parts.loadMs);
            }
            throw error;
          })
        ),
      request.signal,
    );
  }

  /** Builds the encoder and decoder inputs of a request without running the model. */
  prepareInputs(request: Omit<GenerateRequest, "maxNewTokens">): Promise<PreparedInputs> {
    return this.#exclusive(async () => {
      const messages = validateConversation(request);
      // A throwaway cache: every image is decoded and tiled afresh.
      const images = await this.#readImages(request, new FeatureCache(0));
      const prompt = promptIds(this.#prompt, messages, images.plans);
      const processed = tilePending(images, this.plan.spec.image).map((p) => p.processed);
      const { tiles, data } = packTiles(processed, this.plan.spec.image);
      return {
        inputIds: prompt.ids,
        pixelValues: data,
        tiles,
        tileSize: this.plan.spec.image.tileSize,
        plans: images.plans,
      };
    });
  }

  /**
   * Generates from ready-made inputs (token ids and normalised tiles), e.g.
   * those written by `vlm run --dump-inputs` or produced by another
   * implementation's processor: the way to compare runtimes on identical inputs.
   */
  generateFromInputs(
    inputs: Pick<PreparedInputs, "inputIds" | "pixelValues" | "tiles">,
    request: Omit<GenerateRequest, "messages" | "prompt" | "images" | "split">,
  ): Promise<GenerationResult> {
    return this.#exclusive(async () => {
      const started = performance.now();
      validateSettings(request);
      const sampler = new Sampler(request);
      const T = this.plan.spec.image.tileSize;
      if (inputs.pixelValues.length !== inputs.tiles * 3 * T * T) {
        throw new VlmError(
          "input_invalid",
          `pixelValues has ${inputs.pixelValues.length} values; ${inputs.tiles} tiles of 3x${T}x${T} need ${
            inputs.tiles * 3 * T * T
          }`,
          { fix: "pass pixel values shaped [tiles, 3, T, T]" },
        );
      }
      const imageId = this.plan.spec.tokens.image.id!;
      const ids = inputs.inputIds;
      const unbudgeted = { ids, imageTokens: ids.filter((id) => id === imageId).length };
      const prompt = {
        ...unbudgeted,
        maxNewTokens: budgetedTokens(this.plan, unbudgeted, request),
      };
      const t0 = performance.now();
      const features = inputs.tiles === 0
        ? { rows: 0, cols: this.plan.spec.decoder.hidden, data: new Float32Array(0) }
        : await encodeTiles(this.#vision, inputs.tiles, inputs.pixelValues);
      const input = {
        prompt,
        features,
        images: undefined,
        cachedImages: 0,
        preprocessMs: 0,
        visionMs: performance.now() - t0,
        started,
      };
      return await this.#decode(input, request as GenerateRequest, sampler, () => {});
    });
  }

  /**
   * Forgets the cached image features and the previous request's KV cache
   * (their memory is freed; the next request computes everything afresh).
   * Waits for the request in progress, if any.
   */
  clearCaches(): Promise<void> {
    return this.#exclusive(() => {
      this.#features.clear();
      this.#previous = undefined;
      return Promise.resolve();
    });
  }

  /** Releases the sessions. The model cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#queue.catch(() => {});
    this.#features.clear();
    this.#previous = undefined;
    await Promise.all(this.#parts.sessions.map((s) => s.release()));
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.#disposed) {
      return Promise.reject(
        new VlmError("usage", "the model was disposed", { fix: "load it again with loadModel" }),
      );
    }
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** The three steps of a request: prepare (after reading the images), encode, decode. */
  async #run(request: GenerateRequest, emit: Emit): Promise<GenerationResult> {
    const started = performance.now();
    abortIfNeeded(request.signal);
    const messages = validateRequest(request);
    const sampler = new Sampler(request);
    const images = await this.#readImages(request, this.#features);
    const prompt = preparePrompt(this.#prompt, messages, images.plans, request);
    const vision = await encodeImages(images, this.#vision, this.#features, request.signal);
    const input = {
      prompt,
      features: vision.features,
      images: vision.identities,
      cachedImages: images.cachedImages,
      preprocessMs: images.readMs + vision.tileMs,
      visionMs: vision.visionMs,
      started,
    };
    const result = await this.#decode(input, request, sampler, emit);
    return { ...result, imagePlan: imagePlanOf(images.plans, images.maxTiles, this.plan) };
  }

  /**
   * The tile cap a request's images get: its `maxTiles`, else the model's
   * default (5 on wasm); `split: false` needs none. Infinity means no cap.
   */
  imageBudget(request: Pick<GenerateRequest, "split" | "maxTiles">): number {
    if (request.split === false) return 1;
    return request.maxTiles ?? this.#parts.maxTiles ?? Infinity;
  }

  /** Reads, checks and plans the request's images; features come from `cache` where it has them. */
  #readImages(
    request: Pick<GenerateRequest, "images" | "split" | "maxTiles" | "signal">,
    cache: FeatureCache,
  ) {
    return readImages(request.images ?? [], {
      spec: this.plan.spec.image,
      split: request.split,
      maxTiles: this.imageBudget(request),
      maxPixels: this.#parts.maxPixels,
      cache,
      signal: request.signal,
    });
  }

  /** Decodes with the previous request's cache (when reuse is on) and keeps the new one. */
  async #decode(
    input: DecodeInput,
    request: GenerateRequest,
    sampler: Sampler,
    emit: Emit,
  ): Promise<GenerationResult> {
    const reuse = request.reusePrefix ?? this.#parts.reusePrefix;
    const previous = reuse ? this.#previous : undefined;
    // A failed request leaves nothing to reuse.
    this.#previous = undefined;
    const outcome = await decode(this.#language, input, request, sampler, previous, emit);
    this.#previous = outcome.previous;
    return outcome.result;
  }
}
