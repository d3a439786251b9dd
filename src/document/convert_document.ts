/**
 * `convertDocument`: a PDF or images in, DocTags page by page out, then one
 * assembled document. One generation per page with the DocTags page prompt,
 * `</doctag>` and end-of-utterance stop strings, the loop guard and a token
 * cap; a page that fails, loops or hits the cap is reported and the others
 * still run.
 *
 * @module
 */
import { doctags } from "../../plugins/doctags/task.ts";
import { loopGuard } from "../../plugins/doctags/loop_guard.ts";
import { VlmError } from "../errors/vlm_error.ts";
import { runTask, type TaskModel } from "../runtime/tasks/run_task.ts";
import type { TaskPlugin } from "../runtime/tasks/contract.ts";
import type { RgbImage } from "../image/raster.ts";
import {
  type AssembledDocument,
  assemblePages,
  type ConvertedPage,
  needsRaster,
} from "./assemble_pages.ts";
import {
  type DocumentSource,
  type DocumentSourceOptions,
  openDocumentSource,
  type SourcePage,
} from "./document_source.ts";
import { parsePageRanges } from "./page_ranges.ts";
import type { PageResult } from "./page_result.ts";

/** Tokens one page may generate unless the caller says otherwise. */
export const DEFAULT_PAGE_TOKEN_CAP = 4096;

/** Options of {@linkcode convertDocument}. */
export interface ConvertDocumentOptions extends Omit<DocumentSourceOptions, "scale"> {
  /** Pages to convert: `"1-3,7"`, `"5-"`, or page numbers (default: all). */
  pages?: string | readonly number[];
  /** PDF render resolution in dots per inch (default 144, docling's scale 2). */
  dpi?: number;
  /** PDF render scale, pixels per point (`dpi / 72`); give this or `dpi`. */
  scale?: number;
  /**
   * Tokens one page may generate (default {@linkcode DEFAULT_PAGE_TOKEN_CAP},
   * lowered to what the prompt leaves in the context).
   */
  maxNewTokens?: number;
  /**
   * DocTags of pages converted earlier, by page number: they are not
   * generated again and come back with `resumed: true` (how `--resume` works).
   */
  completed?: ReadonlyMap<number, string>;
  /** Document name in the DoclingDocument JSON (docling's `name`; default `Document`). */
  name?: string;
  /**
   * How page DocTags are read: `tolerant` (default) keeps what capped or
   * looping pages hold and reports every repair in `issues`; `docling` reads
   * as docling-core does, so the exports are docling's byte for byte (it
   * empties unclosed elements and drops text outside elements).
   */
  reader?: "docling" | "tolerant";
}

/** The end of a conversion. */
export interface ConvertedDocument {
  /** Every selected page's result, in page order. */
  pages: PageResult[];
  /**
   * The pages assembled into one document (failed pages are empty pages):
   * boxes and page sizes in raster pixels at the render scale, as docling's
   * VLM pipeline has them; `pictures` holds the PNG crops the exports reference.
   */
  document: AssembledDocument;
}

/**
 * A running conversion: iterate it for page results as they finish, then
 * call {@linkcode DocumentConversion.result}. Leaving the loop early does not
 * stop the conversion; `result()` finishes the remaining pages.
 */
export interface DocumentConversion extends AsyncIterable<PageResult> {
  /** The source's kind. */
  readonly kind: "pdf" | "images";
  /** Pages in the source. */
  readonly sourcePages: number;
  /** The selected page numbers, in the order they run. */
  readonly pageNumbers: readonly number[];
  /** Runs any remaining pages and assembles the document. */
  result(): Promise<ConvertedDocument>;
  /** Stops after the running page and frees the document (a later `result()` rejects). */
  close(): Promise<void>;
}

/** The DocTags task with both of SmolDocling's end markers as stop strings. */
function pagePlugin(maxNewTokens: number): TaskPlugin<unknown> {
  const plugin = doctags({ mode: "page", loopGuard: true, maxNewTokens });
  return {
    ...plugin,
    hooks: {
      ...plugin.hooks,
      stop: () => ({ strings: ["</doctag>", "<end_of_utterance>"] }),
    },
  } as TaskPlugin<unknown>;
}

function scaleOf(options: ConvertDocumentOptions): number | undefined {
  if (options.dpi !== undefined && options.scale !== undefined) {
    throw new VlmError("usage", "convertDocument takes dpi or scale, not both", {
      fix: "give only dpi (e.g. 144) or only scale (e.g. 2)",
    });
  }
  const scale = options.dpi !== undefined ? options.dpi / 72 : options.scale;
  if (scale !== undefined && !(scale >= 1 / 72 && scale <= 20)) {
    throw new VlmError(
      "input_invalid",
      `the render resolution ${options.dpi ?? options.scale} is out of range`,
      { fix: "use a dpi between 1 and 1440 (default 144), or a scale between 1/72 and 20" },
    );
  }
  return scale;
}

function selectPages(pages: ConvertDocumentOptions["pages"], count: number): number[] {
  if (pages === undefined) return Array.from({ length: count }, (_, i) => i + 1);
  if (typeof pages === "string") return parsePageRanges(pages, count);
  return parsePageRanges(pages.join(","), count);
}

/** Whether the page's tokens end in a loop, as the loop guard judges it (trailing EOS left out). */
function loopVerdict(model: TaskModel, tokenIds: readonly number[]) {
  const eos = model.plan.spec.tokens.eosIds;
  let end = tokenIds.length;
  while (end > 0 && eos.includes(tokenIds[end - 1])) end--;
  const isLocation = (id: number) => /^<loc_\d+>$/.test(model.tokenizer.tokenText(id) ?? "");
  return loopGuard(tokenIds.slice(0, end), { wildcardIds: isLocation });
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error instanceof VlmError && error.code === "aborted") ||
    (error instanceof DOMException && error.name === "AbortError");
}

/** A page result and, when the page was rendered for the model, its raster. */
interface ConvertedSourcePage {
  result: PageResult;
  pixels?: RgbImage;
}

async function convertPage(
  model: TaskModel,
  page: SourcePage,
  cap: number | undefined,
  options: ConvertDocumentOptions,
): Promise<ConvertedSourcePage> {
  const base = { pageNo: page.pageNo, size: page.size, resumed: false };
  const started = performance.now();
  let rasterMs = 0;
  let raster = { width: 0, height: 0 };
  try {
    const { bytes, pixels } = page.render();
    rasterMs = performance.now() - started;
    const generating = performance.now();
    const plugin = pagePlugin(cap ?? DEFAULT_PAGE_TOKEN_CAP);
    const result = await runTask(model, plugin, {
      images: [bytes],
      maxNewTokens: cap,
      signal: options.signal,
    });
    const timings = {
      rasterMs,
      generateMs: performance.now() - generating,
      visionMs: result.timings.visionMs,
      prefillMs: result.timings.prefillMs,
      decodeTokensPerSec: result.timings.decodeTokensPerSec,
    };
    raster = imageSize(page, bytes);
    const common = {
      ...base,
      doctags: result.text,
      raster,
      tokens: result.tokenIds.length,
      timings,
    };
    const verdict = loopVerdict(model, result.tokenIds);
    if (verdict.looping) {
      return {
        result: {
          ...common,
          status: "looped",
          reason: `the loop guard stopped a ${verdict.reason} repeated ${verdict.repeats} times`,
        },
        pixels,
      };
    }
    if (result.finishReason === "max_tokens") {
      return {
        result: {
          ...common,
          status: "capped",
          reason: `stopped at the cap of ${result.tokenIds.length} new tokens`,
        },
        pixels,
      };
    }
    return { result: { ...common, status: "ok" }, pixels };
  } catch (error) {
    if (isAbort(error, options.signal)) throw error;
    return { result: failedPage(page, error, raster, rasterMs || performance.now() - started) };
  }
}

function failedPage(
  page: SourcePage,
  error: unknown,
  raster: { width: number; height: number },
  rasterMs: number,
): PageResult {
  return {
    pageNo: page.pageNo,
    size: page.size,
    resumed: false,
    status: "failed",
    reason: error instanceof Error ? error.message : String(error),
    errorCode: error instanceof VlmError ? error.code : "internal",
    doctags: "",
    raster,
    tokens: 0,
    timings: { rasterMs, generateMs: 0 },
  };
}

/**
 * A page from an earlier run. When its DocTags crop a picture, the page is
 * rendered again now, while the source is open; if that fails (a lower pixel
 * limit than before, say) the page is failed rather than cropped wrongly.
 */
function resumedPage(page: SourcePage, doctags: string): ConvertedSourcePage {
  const result: PageResult = {
    pageNo: page.pageNo,
    status: "ok",
    doctags,
    size: page.size,
    raster: page.rasterSize,
    tokens: 0,
    resumed: true,
    timings: { rasterMs: 0, generateMs: 0 },
  };
  if (!needsRaster(doctags)) return { result };
  const started = performance.now();
  try {
    const pixels = page.pixels();
    result.timings.rasterMs = performance.now() - started;
    return { result, pixels };
  } catch (error) {
    const failed = failedPage(page, error, page.rasterSize, performance.now() - started);
    failed.reason = `page ${page.pageNo} was resumed but cannot be rendered again for its ` +
      `pictures: ${failed.reason}`;
    return { result: failed };
  }
}

/** The pixel size of the encoded page (PNG or JPEG header) without decoding it. */
function imageSize(page: SourcePage, bytes: Uint8Array): { width: number; height: number } {
  // PNG: IHDR width and height at bytes 16-23; other formats report the page size.
  if (bytes[0] === 0x89 && bytes[1] === 0x50) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  return page.size;
}

/**
 * Converts a document with a DocTags model (SmolDocling, granite-docling).
 * Opens and checks the source first (an encrypted or corrupt PDF, too many
 * pages or a bad page selection reject here), then converts the selected
 * pages one by one as the returned conversion is iterated.
 *
 * @example
 * ```ts ignore
 * const conversion = await convertDocument(model, await Deno.readFile("paper.pdf"), {
 *   pages: "1-3",
 * });
 * for await (const page of conversion) console.log(page.pageNo, page.status);
 * const { document } = await conversion.result();
 * console.log(document.markdown);
 * ```
 */
export async function convertDocument(
  model: TaskModel,
  source: DocumentSource,
  options: ConvertDocumentOptions = {},
): Promise<DocumentConversion> {
  const scale = scaleOf(options);
  const cap = options.maxNewTokens;
  if (cap !== undefined && !(Number.isInteger(cap) && cap > 0)) {
    throw new VlmError("input_invalid", `maxNewTokens ${cap} is not a positive integer`, {
      fix: `leave it out (default ${DEFAULT_PAGE_TOKEN_CAP}) or give a positive integer`,
    });
  }
  const opened = await openDocumentSource(source, { ...options, scale });
  let numbers: number[];
  try {
    numbers = selectPages(options.pages, opened.pages.length);
  } catch (error) {
    opened.close();
    throw error;
  }
  const results: PageResult[] = [];
  const kept: ConvertedPage[] = [];
  async function* run(): AsyncGenerator<PageResult> {
    try {
      for (const pageNo of numbers) {
        options.signal?.throwIfAborted();
        const page = opened.pages[pageNo - 1];
        const earlier = options.completed?.get(pageNo);
        const { result, pixels } = earlier !== undefined
          ? resumedPage(page, earlier)
          : await convertPage(model, page, cap, options);
        // Only the rasters assembly crops from are kept (memory: see assemble_pages.ts).
        let image: RgbImage | undefined;
        if (needsRaster(result.doctags)) {
          try {
            image = pixels ?? page.pixels();
          } catch { /* an image page that decodes for the model always decodes */ }
        }
        kept.push({ pageNo, doctags: result.doctags, size: page.rasterSize, image });
        results.push(result);
        yield result;
      }
    } finally {
      opened.close();
    }
  }
  const pages = run();
  let iterated = false;
  let closed = false;
  let assembled: Promise<ConvertedDocument> | undefined;
  const result = () =>
    assembled ??= (async () => {
      while (!(await pages.next()).done) { /* run the rest */ }
      if (closed) {
        throw new VlmError("usage", "the document conversion was closed", {
          fix: "call result() before close()",
        });
      }
      const sorted = [...results].sort((a, b) => a.pageNo - b.pageNo);
      const document = assemblePages(kept, {
        name: options.name,
        // Model output is often cut off (the token cap, the loop guard): keep what it holds.
        reader: options.reader ?? "tolerant",
      });
      // The rasters are in the crops now; the conversion object may outlive the result.
      kept.length = 0;
      return { pages: sorted, document };
    })();
  return {
    kind: opened.kind,
    sourcePages: opened.pages.length,
    pageNumbers: numbers,
    result,
    async close() {
      closed = true;
      await pages.return(undefined);
      opened.close();
    },
    [Symbol.asyncIterator]() {
      if (iterated) {
        throw new VlmError("usage", "a document conversion can be iterated once", {
          fix: "keep the page results of the first loop, or call result() for all of them",
        });
      }
      iterated = true;
      // Breaking out of the loop must not end the generator: result() still needs the rest.
      return {
        next: () => pages.next(),
        return: () => Promise.resolve({ done: true, value: undefined }),
      };
    },
  };
}
