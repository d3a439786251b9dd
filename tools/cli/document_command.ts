/**
 * `vlm document --model DIR --in FILE.pdf|IMAGES... --out DIR`: converts PDFs
 * or page images with a DocTags model (SmolDocling, granite-docling) into
 * Markdown, HTML, DoclingDocument JSON or DocTags, page by page, resumable.
 *
 * @module
 */
import { basename, extname, join } from "node:path";
import {
  convertDocument,
  type ConvertedDocument,
  type DocumentConversion,
} from "../../src/document/convert_document.ts";
import { isPdf } from "../../src/document/document_source.ts";
import type { PageResult } from "../../src/document/page_result.ts";
import { UsageError } from "../../src/errors/usage_error.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import type { TaskModel } from "../../src/runtime/tasks/run_task.ts";
import {
  optionalNumber,
  parseBackend,
  parseCommandArgs,
  parseDtype,
  requireString,
} from "./args.ts";
import { writeFileAtomically } from "./atomic_file.ts";
import { type Command, printJson } from "./command.ts";
import { MAX_PIXELS_HELP, MAX_PIXELS_OPTION, parseMaxPixels } from "./max_pixels.ts";

const FORMATS = { md: "md", html: "html", json: "json", doctags: "doctags" } as const;
type Format = keyof typeof FORMATS;

const usage =
  `Usage: vlm document --model DIR --in FILE.pdf|IMAGE... --out DIR [--to md|html|json|doctags]
                    [--pages 1-3,7] [--dpi 144] [--max-new-tokens N] [--resume]
                    [--concurrency N] [--backend wasm|native] [--dtype D] [--max-pixels N] [--json]

Converts documents with a DocTags model (SmolDocling, granite-docling): one generation per page
(the page prompt, </doctag> / <end_of_utterance> stop strings, the loop guard, a token cap),
then the pages assembled into one document.
  --in FILE          a PDF (rendered with PDFium at --dpi), or PNG/JPEG page images. Each PDF is
                     one document; all the images given form one document, pages in order.
                     Repeat --in for a batch.
  --out DIR          for each document NAME (the file name without extension): DIR/NAME/NAME.EXT
                     and DIR/NAME/pages/page-NNNN.doctags (+ .json: status, tokens, timings)
  --to F             md (default), html, json (DoclingDocument) or doctags
  --pages SEL        pages to convert, e.g. 1-3,7 or 5- (default: all)
  --dpi N            PDF render resolution (default 144: docling's scale 2)
  --max-new-tokens N token cap per page (default 4096, lowered to what the context leaves)
  --resume           keep the pages an earlier run wrote; convert only the missing ones
  --concurrency N    documents open at once in a batch (default 2); they share the model,
                     which generates for one page at a time
  --json             print {documents, summary} instead of the progress bar
${MAX_PIXELS_HELP}
Page files are written as each page finishes, final files when the document is done, all
atomically. A page that fails, loops or hits the cap is reported and the others finish; the exit
code is 1 when any page or document failed.`;

/** One document of a batch: its name and the files it reads. */
interface DocumentJob {
  name: string;
  inputs: string[];
}

/** The jobs `--in` describes: each PDF alone, every image together. */
async function planJobs(inputs: readonly string[]): Promise<DocumentJob[]> {
  const jobs: DocumentJob[] = [];
  const images: string[] = [];
  for (const input of inputs) {
    let head: Uint8Array;
    try {
      using file = await Deno.open(input, { read: true });
      head = new Uint8Array(1024);
      head = head.subarray(0, (await file.read(head)) ?? 0);
    } catch (error) {
      throw new VlmError("input_invalid", `cannot read ${input}: ${(error as Error).message}`, {
        fix: "pass existing PDF, PNG or JPEG files to --in",
        cause: error,
      });
    }
    if (isPdf(head)) jobs.push({ name: basename(input, extname(input)), inputs: [input] });
    else images.push(input);
  }
  if (images.length > 0) {
    jobs.push({ name: basename(images[0], extname(images[0])), inputs: images });
  }
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) {
      throw new UsageError(
        `vlm document: two documents would both be written to --out/${job.name}`,
        "rename one of the inputs, or convert them in separate runs",
      );
    }
    names.add(job.name);
  }
  return jobs;
}

const pageFile = (dir: string, pageNo: number, ext: string) =>
  join(dir, "pages", `page-${String(pageNo).padStart(4, "0")}.${ext}`);

/** DocTags an earlier run wrote, by page number (the `--resume` record). */
async function earlierPages(dir: string): Promise<Map<number, string>> {
  const completed = new Map<number, string>();
  try {
    for await (const entry of Deno.readDir(join(dir, "pages"))) {
      const match = /^page-(\d+)\.doctags$/.exec(entry.name);
      if (!match || !entry.isFile) continue;
      completed.set(Number(match[1]), await Deno.readTextFile(join(dir, "pages", entry.name)));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return completed;
}

/** Draws one progress line on stderr when it is a terminal. */
class Progress {
  #done = 0;
  #total = 0;
  #started = performance.now();
  #encoder = new TextEncoder();
  constructor(readonly enabled: boolean) {}
  add(pages: number) {
    this.#total += pages;
    this.draw("");
  }
  page(name: string, page: PageResult) {
    this.#done++;
    this.draw(`${name} p${page.pageNo} ${page.status}`);
  }
  draw(label: string) {
    if (!this.enabled || this.#total === 0) return;
    const width = 24;
    const filled = Math.round((this.#done / this.#total) * width);
    const seconds = (performance.now() - this.#started) / 1000;
    const rate = seconds > 0 ? this.#done / seconds : 0;
    const line =
      `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${this.#done}/${this.#total}` +
      ` pages  ${rate.toFixed(2)} pages/s  ${label}`;
    Deno.stderr.writeSync(this.#encoder.encode(`\r\x1b[2K${line.slice(0, 100)}`));
  }
  end() {
    if (this.enabled && this.#total > 0) Deno.stderr.writeSync(this.#encoder.encode("\n"));
  }
}

/** What the run did with one document. */
interface DocumentReport {
  in: string[];
  out?: string;
  pages: { pageNo: number; status: string; reason?: string; resumed: boolean; tokens: number }[];
  error?: { code: string; message: string; fix?: string };
}

interface JobOptions {
  out: string;
  to: Format;
  pages?: string;
  dpi?: number;
  maxNewTokens?: number;
  maxPixels?: number;
  resume: boolean;
}

async function convertJob(
  model: TaskModel,
  job: DocumentJob,
  options: JobOptions,
  progress: Progress,
): Promise<DocumentReport> {
  const dir = join(options.out, job.name);
  const first = job.inputs.length === 1 ? await Deno.readFile(job.inputs[0]) : undefined;
  const isPdfJob = first !== undefined && isPdf(first);
  const source = isPdfJob ? first : job.inputs;
  // Opening checks the input (encryption, corruption, page limit, selection) before any write.
  const conversion: DocumentConversion = await convertDocument(model, source, {
    pages: options.pages,
    dpi: isPdfJob ? options.dpi : undefined,
    maxNewTokens: options.maxNewTokens,
    maxPixels: options.maxPixels,
    completed: options.resume ? await earlierPages(dir) : undefined,
  });
  if (!options.resume) await Deno.remove(join(dir, "pages"), { recursive: true }).catch(() => {});
  progress.add(conversion.pageNumbers.length);
  for await (const page of conversion) {
    if (page.status !== "failed" && !page.resumed) {
      await writeFileAtomically(
        pageFile(dir, page.pageNo, "json"),
        JSON.stringify({ ...page, doctags: undefined }, null, 2),
      );
      // The DocTags file is the resume record: written last, so it implies the metadata exists.
      await writeFileAtomically(pageFile(dir, page.pageNo, "doctags"), page.doctags);
    }
    progress.page(job.name, page);
  }
  const done: ConvertedDocument = await conversion.result();
  const out = join(dir, `${job.name}.${FORMATS[options.to]}`);
  for (const picture of done.document.pictures) {
    await writeFileAtomically(join(dir, picture.path), picture.png);
  }
  const body = options.to === "md"
    ? done.document.markdown
    : options.to === "html"
    ? done.document.html
    : options.to === "json"
    ? JSON.stringify(done.document.json, null, 2)
    : done.document.doctags;
  await writeFileAtomically(out, body);
  const pages = [];
  for (const page of done.pages) {
    // A resumed page reports how it ended when it was converted (looped, capped, ...).
    const recorded = page.resumed ? await recordedPage(dir, page.pageNo) : undefined;
    const { status, reason, tokens } = recorded ?? page;
    pages.push({
      pageNo: page.pageNo,
      status,
      ...(reason ? { reason } : {}),
      resumed: page.resumed,
      tokens,
    });
  }
  return { in: job.inputs, out, pages };
}

/** The status an earlier run recorded for a page, when its metadata file is readable. */
async function recordedPage(
  dir: string,
  pageNo: number,
): Promise<Pick<PageResult, "status" | "reason" | "tokens"> | undefined> {
  try {
    const meta = JSON.parse(await Deno.readTextFile(pageFile(dir, pageNo, "json")));
    if (!["ok", "looped", "capped"].includes(meta.status)) return undefined;
    return { status: meta.status, reason: meta.reason, tokens: Number(meta.tokens) || 0 };
  } catch {
    return undefined;
  }
}

/** Runs `work` over `items`, at most `limit` at a time, results in input order. */
async function bounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const documentCommand: Command = {
  name: "document",
  summary: "convert PDFs or page images to Markdown, HTML, JSON or DocTags with a DocTags model",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("document", args, {
      model: { type: "string" },
      in: { type: "string", multiple: true },
      out: { type: "string" },
      to: { type: "string" },
      pages: { type: "string" },
      dpi: { type: "string" },
      "max-new-tokens": { type: "string" },
      resume: { type: "boolean" },
      concurrency: { type: "string" },
      backend: { type: "string" },
      dtype: { type: "string" },
      ...MAX_PIXELS_OPTION,
    });
    const inputs = (parsed.values.in as string[] | undefined) ?? [];
    if (inputs.length === 0) {
      throw new UsageError("vlm document: --in is required", "pass a PDF or images with --in FILE");
    }
    const out = requireString("document", parsed, "out");
    const to = (parsed.values.to as string | undefined) ?? "md";
    if (!(to in FORMATS)) {
      throw new UsageError(
        `vlm document: --to ${to} is not one of ${Object.keys(FORMATS).join(", ")}`,
        "use --to md",
      );
    }
    const options: JobOptions = {
      out,
      to: to as Format,
      pages: parsed.values.pages as string | undefined,
      dpi: optionalNumber("document", parsed, "dpi", { min: 18, max: 1440 }),
      maxNewTokens: optionalNumber("document", parsed, "max-new-tokens", {
        min: 1,
        max: 65536,
        integer: true,
      }),
      maxPixels: parseMaxPixels("document", parsed),
      resume: parsed.values.resume === true,
    };
    const concurrency = optionalNumber("document", parsed, "concurrency", {
      min: 1,
      max: 64,
      integer: true,
    }) ?? 2;
    const jobs = await planJobs(inputs);
    const model = await loadModel(requireString("document", parsed, "model"), {
      backend: parseBackend("document", parsed),
      dtype: parseDtype("document", parsed),
      maxPixels: options.maxPixels,
    });
    const json = parsed.values.json === true;
    const progress = new Progress(!json && Deno.stderr.isTerminal());
    const started = performance.now();
    let reports: DocumentReport[];
    try {
      if (jobs.length === 1) {
        // One document: bad input is the command's error (exit 1, nothing written).
        reports = [await convertJob(model, jobs[0], options, progress)];
      } else {
        reports = await bounded(
          jobs,
          concurrency,
          (job) =>
            convertJob(model, job, options, progress).catch((error): DocumentReport => {
              if (!(error instanceof VlmError)) throw error;
              return { in: job.inputs, pages: [], error: error.toJSON().error };
            }),
        );
      }
    } finally {
      progress.end();
      await model.dispose();
    }
    const seconds = (performance.now() - started) / 1000;
    const all = reports.flatMap((r) => r.pages);
    const count = (status: string) => all.filter((p) => p.status === status).length;
    const generated = all.filter((p) => !p.resumed).length;
    const summary = {
      documents: reports.length,
      failedDocuments: reports.filter((r) => r.error).length,
      pages: all.length,
      generated,
      resumed: all.length - generated,
      ok: count("ok"),
      looped: count("looped"),
      capped: count("capped"),
      failed: count("failed"),
      seconds: Number(seconds.toFixed(3)),
      pagesPerSecond: Number((generated / Math.max(seconds, 1e-9)).toFixed(4)),
    };
    if (json) printJson({ documents: reports, summary });
    else {
      for (const report of reports) {
        if (report.error) {
          console.error(`${report.in.join(", ")}: ${report.error.code}: ${report.error.message}`);
          continue;
        }
        for (const page of report.pages.filter((p) => p.status !== "ok")) {
          console.error(`${report.out}: page ${page.pageNo} ${page.status}: ${page.reason}`);
        }
        console.log(report.out);
      }
      console.error(
        `${summary.pages} pages (${summary.generated} converted, ${summary.resumed} resumed) in ` +
          `${summary.seconds} s: ${summary.pagesPerSecond} pages/s; ${summary.failed} failed, ` +
          `${summary.looped} looped, ${summary.capped} capped` +
          (summary.failedDocuments ? `; ${summary.failedDocuments} documents failed` : ""),
      );
    }
    return summary.failed > 0 || summary.failedDocuments > 0 ? 1 : 0;
  },
};
