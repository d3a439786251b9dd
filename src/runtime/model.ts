/**
 * A loaded vision-language model: `generate` for a whole answer, `stream`
 * for text as it is produced, `dispose` to release the sessions. Requests run
 * one at a time per model (ONNX sessions are not re-entrant).
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { decodeImage } from "../image/decode.ts";
import { packTiles, type ProcessedImage, tileImage } from "../image/processor.ts";
import { readImageSource } from "../image/source.ts";
import type {
  Decoder,
  Embedder,
  Encoder,
  FeatureMatrix,
  KvCache,
  Projector,
} from "../modules/types.ts";
import type { Plan } from "../spec/plan.ts";
import type { ChatTemplate } from "../text/chat_template.ts";
import { type ChatMessage, countImageParts } from "../text/messages.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import type { TilePlan } from "../tokens/tiles.ts";
import type { Backend, OrtSession } from "./backend.ts";
import { type CachedImage, FeatureCache, imageKey } from "./feature_cache.ts";
import type { FinishReason, GenerateRequest, GenerationResult } from "./generation_types.ts";
import { mergeImageFeatures } from "./merge.ts";
import { buildPrompt } from "./prompt_builder.ts";
import { EventLoopPacer } from "./event_loop.ts";
import { runTask } from "../plugins/run_task.ts";
import type { TaskInput, TaskPlugin, TaskResult } from "../plugins/types.ts";
import { Sampler } from "./sampler.ts";
import { TokenTextStream } from "./token_text.ts";
import { GenerationStream, type StreamEvent } from "./generation_stream.ts";

/** Everything a model is assembled from (see `loadModel`). */
export interface VlmModelParts {
  /** Plan of the model's spec. */
  plan: Plan;
  /** Tokenizer. */
  tokenizer: TextTokenizer;
  /** Chat template. */
  template: ChatTemplate;
  /** Runtime. */
  backend: Backend;
  /** Sessions to release on dispose. */
  sessions: OrtSession[];
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
  /** Pixel limit for images. */
  maxPixels?: number;
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

function abortIfNeeded(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException("aborted", "AbortError");
}

/** Which images a request's `<image>` tokens stand for. */
interface ImageIdentities {
  /** Content key of each image, in order. */
  keys: string[];
  /** Feature rows (image tokens) of each image. */
  rows: number[];
}

/** What the next request may reuse: its ids, its KV cache and the images behind them. */
interface PreviousRequest {
  ids: number[];
  cache: KvCache;
  images: ImageIdentities | undefined;
}

/**
 * Position of the first `<image>` token whose features may differ from the
 * previous request's: equal ids do not mean equal images, since every image
 * is spelled with the same placeholder tokens. Images match while their keys
 * match in order; unknown identities never match.
 */
function firstChangedImageToken(
  previous: ImageIdentities | undefined,
  current: ImageIdentities | undefined,
  ids: readonly number[],
  imageId: number,
): number {
  let sameRows = 0;
  if (previous && current) {
    for (let j = 0; j < current.keys.length; j++) {
      if (previous.keys[j] !== current.keys[j]) break;
      sameRows += current.rows[j];
    }
  }
  let seen = 0;
  for (let position = 0; position < ids.length; position++) {
    if (ids[position] !== imageId) continue;
    if (seen === sameRows) return position;
    seen++;
  }
  return ids.length;
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** A loaded model. Create with `loadModel`. */
export class VlmModel {
  /** The Plan of the model (shapes, token accounting, files). */
  readonly plan: Plan;
  /** The model's tokenizer. */
  readonly tokenizer: TextTokenizer;
  /** Which runtime runs the sessions. */
  readonly backend: Backend["name"];
  readonly #parts: VlmModelParts;
  readonly #features: FeatureCache;
  #queue: Promise<unknown> = Promise.resolve();
  #previous: PreviousRequest | undefined;
  #disposed = false;
  readonly #plugins = new Map<string, TaskPlugin<unknown>>();

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
    this.plan = parts.plan;
    this.tokenizer = parts.tokenizer;
    this.backend = parts.backend.name;
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

  /** Generates a complete answer. */
  generate(request: GenerateRequest): Promise<GenerationResult> {
    return this.#exclusive(() => this.#run(request, () => {}));
  }

  /**
   * Streams the answer: the returned stream yields text deltas, `tokens`
   * yields each token, and `result` resolves with the full result.
   */
  stream(request: GenerateRequest): GenerationStream {
    return new GenerationStream(
      (emit, signal) => this.#exclusive(() => this.#run({ ...request, signal }, emit)),
      request.signal,
    );
  }

  /** Builds the encoder and decoder inputs of a request without running the model. */
  prepareInputs(request: Omit<GenerateRequest, "maxNewTokens">): Promise<PreparedInputs> {
    return this.#exclusive(async () => {
      const messages = this.#messages(request);
      const images: ProcessedImage[] = [];
      for (const source of request.images ?? []) {
        abortIfNeeded(request.signal);
        images.push(
          this.#tile(await readImageSource(source, { signal: request.signal }), request.split),
        );
      }
      const plans = images.map((i) => i.plan);
      const prompt = this.#prompt(messages, plans);
      const { tiles, data } = packTiles(images, this.plan.spec.image);
      return {
        inputIds: prompt.ids,
        pixelValues: data,
        tiles,
        tileSize: this.plan.spec.image.tileSize,
        plans,
      };
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

  #messages(request: Pick<GenerateRequest, "messages" | "prompt" | "images">): ChatMessage[] {
    if (request.messages && request.prompt !== undefined) {
      throw new VlmError("input_invalid", "give either messages or prompt, not both", {
        fix: "put the prompt text into the last user message",
      });
    }
    if (request.messages) return request.messages;
    if (request.prompt === undefined) {
      throw new VlmError("input_invalid", "the request has neither messages nor prompt", {
        fix: 'pass prompt: "..." or messages: [...]',
      });
    }
    const images = (request.images ?? []).map(() => ({ type: "image" as const }));
    return [{ role: "user", content: [...images, { type: "text", text: request.prompt }] }];
  }

  /** Decodes and tiles one image's bytes under the model's pixel limit. */
  #tile(bytes: Uint8Array, split: boolean | undefined): ProcessedImage {
    const rgb = decodeImage(bytes, { maxPixels: this.#parts.maxPixels });
    return tileImage(rgb, this.plan.spec.image, { split });
  }

  #prompt(messages: ChatMessage[], plans: TilePlan[]) {
    return buildPrompt(
      this.#parts.template,
      this.tokenizer,
      messages,
      plans,
      this.plan.tokensPerTile,
      this.plan.spec.tokens,
    );
  }

  /** Features of every image, from the cache or by running the vision tower once for the rest. */
  async #imageFeatures(
    request: GenerateRequest,
  ): Promise<
    {
      images: CachedImage[];
      keys: string[];
      cachedImages: number;
      preprocessMs: number;
      visionMs: number;
    }
  > {
    const t0 = performance.now();
    const sources = request.images ?? [];
    const images: (CachedImage | undefined)[] = [];
    const pending: { index: number; key: string; processed: ProcessedImage }[] = [];
    const keys: string[] = [];
    let cachedImages = 0;
    for (const [index, source] of sources.entries()) {
      abortIfNeeded(request.signal);
      const bytes = await readImageSource(source, { signal: request.signal });
      const key = await imageKey(bytes, request.split);
      keys.push(key);
      const hit = this.#features.get(key);
      if (hit) {
        images[index] = hit;
        cachedImages++;
        continue;
      }
      pending.push({ index, key, processed: this.#tile(bytes, request.split) });
    }
    const T = this.plan.spec.image.tileSize;
    const packed = packTiles(pending.map((p) => p.processed), this.plan.spec.image);
    const tileCount = packed.tiles;
    const pixels = packed.data;
    const t1 = performance.now();
    if (tileCount > 0) {
      abortIfNeeded(request.signal);
      // All tiles of all new images in one encoder call, as the reference does.
      const encoded = await this.#parts.encoder.encode({ tiles: tileCount, size: T, data: pixels });
      const projected = await this.#parts.projector.project(encoded);
      const perTile = this.plan.tokensPerTile;
      if (projected.rows !== tileCount * perTile) {
        throw new VlmError(
          "model_mismatch",
          `the vision encoder returned ${projected.rows} feature rows for ${tileCount} tiles; the plan expects ${perTile} per tile`,
          { fix: "check image_seq_len / scale_factor against the vision_encoder file" },
        );
      }
      let row = 0;
      for (const p of pending) {
        const rows = p.processed.tiles.length * perTile;
        const features: FeatureMatrix = {
          rows,
          cols: projected.cols,
          data: projected.data.slice(row * projected.cols, (row + rows) * projected.cols),
        };
        row += rows;
        const entry = { plan: p.processed.plan, features };
        images[p.index] = entry;
        this.#features.set(p.key, entry);
      }
    }
    return {
      images: images as CachedImage[],
      keys,
      cachedImages,
      preprocessMs: t1 - t0,
      visionMs: tileCount > 0 ? performance.now() - t1 : 0,
    };
  }

  async #run(
    request: GenerateRequest,
    emit: (event: StreamEvent) => void,
  ): Promise<GenerationResult> {
    const started = performance.now();
    abortIfNeeded(request.signal);
    const sampler = makeSampler(request);
    const messages = this.#messages(request);
    const placeholders = countImageParts(messages);
    const given = request.images?.length ?? 0;
    if (placeholders !== given) {
      throw new VlmError(
        "input_invalid",
        `the messages have ${placeholders} image parts but ${given} images were given`,
        { fix: 'pass exactly one image per {type: "image"} content part' },
      );
    }
    const vision = await this.#imageFeatures(request);
    const prompt = this.#prompt(messages, vision.images.map((i) => i.plan));
    return await this.#decode(
      {
        ids: prompt.ids,
        imageTokens: prompt.imageTokens,
        features: concatFeatures(vision.images.map((i) => i.features)),
        images: { keys: vision.keys, rows: vision.images.map((i) => i.features.rows) },
        cachedImages: vision.cachedImages,
        preprocessMs: vision.preprocessMs,
        visionMs: vision.visionMs,
        started,
      },
      request,
      sampler,
      emit,
    );
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
      const sampler = makeSampler(request as GenerateRequest);
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
      const t0 = performance.now();
      const features = inputs.tiles === 0
        ? { rows: 0, cols: this.plan.spec.decoder.hidden, data: new Float32Array(0) }
        : await this.#parts.projector.project(
          await this.#parts.encoder.encode({
            tiles: inputs.tiles,
            size: T,
            data: inputs.pixelValues,
          }),
        );
      const imageId = this.plan.spec.tokens.image.id!;
      return await this.#decode(
        {
          ids: inputs.inputIds,
          imageTokens: inputs.inputIds.filter((id) => id === imageId).length,
          features,
          images: undefined,
          cachedImages: 0,
          preprocessMs: 0,
          visionMs: performance.now() - t0,
          started,
        },
        request as GenerateRequest,
        sampler,
        () => {},
      );
    });
  }

  /** Prefill (with prefix reuse) and the token loop, shared by every entry point. */
  async #decode(
    input: {
      ids: number[];
      imageTokens: number;
      features: FeatureMatrix;
      /** Identity (content hash) and feature rows of each image, in order; unknown for raw inputs. */
      images: ImageIdentities | undefined;
      cachedImages: number;
      preprocessMs: number;
      visionMs: number;
      started: number;
    },
    request: GenerateRequest,
    sampler: Sampler,
    emit: (event: StreamEvent) => void,
  ): Promise<GenerationResult> {
    const { signal } = request;
    const { ids, features } = input;
    const context = this.plan.decoder.contextLength;
    const room = context - ids.length;
    const maxNewTokens = request.fitContext
      ? Math.min(request.maxNewTokens, room)
      : request.maxNewTokens;
    if (maxNewTokens < 1 || ids.length + maxNewTokens > context) {
      throw new VlmError(
        "budget_unsatisfiable",
        `the prompt (${ids.length} tokens, ${input.imageTokens} of them image tokens) plus maxNewTokens ${request.maxNewTokens} exceeds the context of ${context}`,
        {
          fix: room >= 1
            ? `lower maxNewTokens to ${room} or less, pass split: false, or use fewer/smaller images`
            : "the prompt alone fills the context: pass split: false, use fewer/smaller images, " +
              "or a shorter prompt",
        },
      );
    }

    // KV prefix reuse: keep the previous cache up to the common prefix (at least one new token).
    const prefillStart = performance.now();
    let cache = this.#parts.decoder.emptyCache();
    let reused = 0;
    const previous = this.#previous;
    this.#previous = undefined;
    if ((request.reusePrefix ?? this.#parts.reusePrefix) && previous) {
      const imageId = this.plan.spec.tokens.image.id!;
      reused = Math.min(
        commonPrefix(previous.ids, ids),
        firstChangedImageToken(previous.images, input.images, ids, imageId),
        ids.length - 1,
      );
      if (reused > 0) cache = previous.cache.truncate(reused);
    }
    const imageId = this.plan.spec.tokens.image.id!;
    const newIds = ids.slice(reused);
    const firstFeatureRow = ids.slice(0, reused).filter((id) => id === imageId).length;
    abortIfNeeded(signal);
    const embeds = await this.#parts.embedder.embed(newIds);
    mergeImageFeatures(embeds, newIds, imageId, features, firstFeatureRow);
    let step = await this.#parts.decoder.step(embeds, cache);
    const prefillMs = performance.now() - prefillStart;

    const stopIds = new Set(request.stopTokenIds ?? this.plan.spec.tokens.eosIds);
    const skipSpecial = request.skipSpecialTokens ?? true;
    const text = new TokenTextStream(
      (generatedIds) => this.tokenizer.decode(generatedIds, skipSpecial),
      request.stopStrings ?? [],
    );
    const generated: number[] = [];
    const seen = [...ids];
    let finishReason: FinishReason = "max_tokens";
    let ttftMs = 0;
    let firstTokenAt = 0;
    const pacer = new EventLoopPacer();
    for (;;) {
      await pacer.maybeYield();
      abortIfNeeded(signal);
      for (const processor of request.logitsProcessors ?? []) processor(step.logits, generated);
      const id = sampler.next(step.logits, seen);
      generated.push(id);
      seen.push(id);
      if (generated.length === 1) {
        firstTokenAt = performance.now();
        ttftMs = firstTokenAt - input.started;
      }
      const { delta, stopped } = text.push(generated);
      emit({ id, text: delta });
      request.onToken?.({ id, text: delta });
      if (stopIds.has(id)) {
        finishReason = "eos";
        break;
      }
      if (stopped) {
        finishReason = "stop_string";
        break;
      }
      if (generated.length >= maxNewTokens) break;
      const next = await this.#parts.embedder.embed([id]);
      step = await this.#parts.decoder.step(next, step.cache);
    }
    const tail = text.flush();
    if (tail) emit({ id: null, text: tail });
    // The cache holds every token fed so far: the prompt and all but the last generated token.
    this.#previous = {
      ids: ids.concat(generated.slice(0, -1)),
      cache: step.cache,
      images: input.images,
    };
    const decodeSeconds = (performance.now() - firstTokenAt) / 1000;
    return {
      text: text.text,
      tokenIds: generated,
      promptTokens: ids.length,
      imageTokens: input.imageTokens,
      finishReason,
      reusedPrefixTokens: reused,
      cachedImages: input.cachedImages,
      timings: {
        loadMs: this.#parts.loadMs,
        preprocessMs: input.preprocessMs,
        visionMs: input.visionMs,
        prefillMs,
        ttftMs,
        decodeTokensPerSec: generated.length > 1 && decodeSeconds > 0
          ? (generated.length - 1) / decodeSeconds
          : 0,
      },
    };
  }
}

/** Validates the request's generation settings and builds its sampler. */
function makeSampler(request: GenerateRequest): Sampler {
  if (!Number.isInteger(request.maxNewTokens) || request.maxNewTokens < 1) {
    throw new VlmError(
      "input_invalid",
      `maxNewTokens must be a positive integer, got ${request.maxNewTokens}`,
      { fix: "pass maxNewTokens explicitly, e.g. 256" },
    );
  }
  try {
    return new Sampler(request);
  } catch (error) {
    throw new VlmError("input_invalid", (error as Error).message, {
      fix: "use temperature ≥ 0, topK ≥ 0, 0 < topP ≤ 1, repetitionPenalty > 0",
    });
  }
}

function concatFeatures(parts: readonly FeatureMatrix[]): FeatureMatrix {
  const cols = parts[0]?.cols ?? 0;
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const data = new Float32Array(rows * cols);
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { rows, cols, data };
}
