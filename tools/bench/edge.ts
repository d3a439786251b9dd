/**
 * The bench's "edge" section: models run as an edge function runs them —
 * through the `vlm bundle --target edge` file in a bare `deno run --no-config`
 * with read permission on the model and the image only — each measurement in
 * a process of its own (tools/bench/edge_probe.js), its peak RSS read by this
 * process from /proc/<pid>/status (VmHWM, which exec resets; the probe cannot
 * read /proc/self without -A, and getrusage would carry this process's peak). The same probe runs the
 * sources on the native backend with 2 threads in the same run, for the
 * ratios. Figures are medians of `runs` processes.
 *
 * @module
 */
import { join } from "node:path";
import type { Dtype } from "../../src/spec/types.ts";
import { runWithPeak } from "./child_peak.ts";
import { median } from "../median.ts";

const ROOT = new URL("../../", import.meta.url);
const PROBE = new URL("bench/edge_probe.js", new URL("../", import.meta.url));
const BUNDLE_IMPORT = 'import * as vlm from "./vlmkit.edge.js";';

/** One model of the section. */
export interface EdgeModel {
  /** Label in the report. */
  name: string;
  /** Model folder. */
  folder: string;
  /** Its dtype (file suffix), if not fp32. */
  dtype?: Dtype;
}

/** What one probe process printed. */
export interface ProbeFigures {
  /** RSS once the bundle is evaluated (ONNX Runtime's binary inflated), before any model. */
  importRssBytes: number;
  /** RSS after `loadModel`. */
  loadRssBytes: number;
  /** Peak RSS (VmHWM) of the whole process, request included. */
  peakRssBytes: number;
  /** `loadModel` wall time, ms. */
  loadMs: number;
  /** Request to first token, ms. */
  ttftMs: number;
  /** Vision encoder time, ms. */
  visionMs: number;
  /** New tokens after the first per second. */
  decodeTokensPerSec: number;
  /** Tiles the image was cut into. */
  tiles: number | null;
  /** Prompt tokens. */
  promptTokens: number;
}

/** One model's figures per backend and image. */
export interface EdgeModelReport {
  /** Which model. */
  model: string;
  /** Medians through the edge bundle on wasm (1 thread): unsplit 512² PNG, 1024×768 photo at the edge default. */
  wasm: { unsplit: ProbeFigures; photo: ProbeFigures };
  /** Medians from the sources on native, 2 threads, same images and budget. */
  native: { unsplit: ProbeFigures; photo: ProbeFigures };
  /** wasm / native, same run. */
  ratios: { decode: number; ttftUnsplit: number; ttftPhoto: number; load: number };
  /**
   * The unsplit image with the embed_tokens session (`embedding: "session"`), runs
   * interleaved with the table runs above (`wasm.unsplit`, `native.unsplit`), same images.
   */
  sessionEmbedding: { wasm: ProbeFigures; native: ProbeFigures };
}

/** The section's report. */
export interface EdgeReport {
  /** How the figures were taken. */
  method: string;
  /** Processes per figure (medians). */
  runs: number;
  /** Per model. */
  models: EdgeModelReport[];
}

function medianFigures(all: ProbeFigures[]): ProbeFigures {
  const out: Record<string, number | null> = {};
  for (const key of Object.keys(all[0]) as (keyof ProbeFigures)[]) {
    const values = all.map((f) => f[key]).filter((v): v is number => typeof v === "number");
    out[key] = values.length ? median(values) : null;
  }
  return out as unknown as ProbeFigures;
}

async function run(args: string[], cwd: string): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (output.code !== 0) {
    throw new Error(`deno ${args.slice(0, 3).join(" ")} failed: ${text.decode(output.stderr)}`);
  }
  return text.decode(output.stdout);
}

/**
 * Builds the edge bundle of the checkout at `root` (default: this one) and the
 * two probes (bundle / sources) into `dir`.
 */
export async function prepareEdgeProbes(dir: string, root: URL = ROOT): Promise<void> {
  await run(
    [
      "run",
      "-A",
      "--config",
      new URL("deno.json", root).pathname,
      new URL("tools/vlm.ts", root).pathname,
      "bundle",
      "--target",
      "edge",
      "--out",
      dir,
      "--json",
    ],
    root.pathname,
  );
  const probe = await Deno.readTextFile(PROBE);
  if (!probe.includes(BUNDLE_IMPORT)) throw new Error("edge_probe.js no longer imports the bundle");
  await Deno.writeTextFile(join(dir, "edge_probe.js"), probe);
  await Deno.writeTextFile(
    join(dir, "native_probe.js"),
    probe.replace(BUNDLE_IMPORT, `import * as vlm from "${new URL("mod.ts", root).href}";`),
  );
}

async function probe(
  dir: string,
  backend: "wasm" | "native",
  model: EdgeModel,
  image: string,
  split: boolean,
  tokens: number,
  embedding: "table" | "session" = "table",
): Promise<ProbeFigures> {
  const options = JSON.stringify({
    model: model.folder,
    image,
    dtype: model.dtype,
    backend,
    split,
    tokens,
    embedding,
    waitForParent: true,
    // The native figures use the wasm default budget, so both cut the photo alike.
    ...(backend === "native" ? { threads: 2, maxTiles: 5 } : {}),
  });
  const args = backend === "wasm"
    ? [
      "run",
      "--no-config",
      "--no-lock",
      "--no-prompt",
      `--allow-read=${model.folder},${image}`,
      "edge_probe.js",
      options,
    ]
    : ["run", "-A", "--config", new URL("deno.json", ROOT).pathname, "native_probe.js", options];
  const result = await runWithPeak(Deno.execPath(), args, dir);
  if (result.code !== 0 || !result.json) throw new Error(`edge probe failed: ${result.stderr}`);
  return result.json as unknown as ProbeFigures;
}

/**
 * Measures one model on wasm through the edge bundle, as the section does
 * (medians of `runs` processes an image): the figures `vlm profile --model`
 * reports and judges per platform. Builds the bundle in a temporary folder.
 */
export async function measureEdgeWasm(
  model: EdgeModel,
  images: { square: string; photoSmall: string },
  options: { runs: number; tokens: number },
): Promise<{ unsplit: ProbeFigures; photo: ProbeFigures }> {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-edge-profile-" });
  try {
    await prepareEdgeProbes(dir);
    const figures = async (image: string, split: boolean) => {
      const all: ProbeFigures[] = [];
      for (let i = 0; i < options.runs; i++) {
        all.push(await probe(dir, "wasm", model, image, split, options.tokens));
      }
      return medianFigures(all);
    };
    return {
      unsplit: await figures(images.square, false),
      photo: await figures(images.photoSmall, true),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs the edge section over `models`; progress on stderr. */
export async function benchEdge(
  models: readonly EdgeModel[],
  images: { square: string; photoSmall: string },
  options: { runs: number; tokens: number },
): Promise<EdgeReport> {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-edge-bench-" });
  try {
    await prepareEdgeProbes(dir);
    const reports: EdgeModelReport[] = [];
    for (const model of models) {
      const figures = async (backend: "wasm" | "native", image: string, split: boolean) => {
        const all: ProbeFigures[] = [];
        for (let i = 0; i < options.runs; i++) {
          all.push(await probe(dir, backend, model, image, split, options.tokens));
        }
        return medianFigures(all);
      };
      // Embedding table against the embed_tokens session, runs alternating so drift in the
      // machine's load hits both alike.
      const ab = async (backend: "wasm" | "native") => {
        const table: ProbeFigures[] = [];
        const session: ProbeFigures[] = [];
        for (let i = 0; i < options.runs; i++) {
          table.push(await probe(dir, backend, model, images.square, false, options.tokens));
          session.push(
            await probe(dir, backend, model, images.square, false, options.tokens, "session"),
          );
        }
        return { table: medianFigures(table), session: medianFigures(session) };
      };
      const wasmAb = await ab("wasm");
      const nativeAb = await ab("native");
      const wasm = {
        unsplit: wasmAb.table,
        photo: await figures("wasm", images.photoSmall, true),
      };
      const native = {
        unsplit: nativeAb.table,
        photo: await figures("native", images.photoSmall, true),
      };
      const report: EdgeModelReport = {
        model: model.name,
        wasm,
        native,
        ratios: {
          decode: wasm.unsplit.decodeTokensPerSec / native.unsplit.decodeTokensPerSec,
          ttftUnsplit: wasm.unsplit.ttftMs / native.unsplit.ttftMs,
          ttftPhoto: wasm.photo.ttftMs / native.photo.ttftMs,
          load: wasm.unsplit.loadMs / native.unsplit.loadMs,
        },
        sessionEmbedding: { wasm: wasmAb.session, native: nativeAb.session },
      };
      reports.push(report);
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
      console.error(
        `edge ${model.name}: wasm floor ${mib(wasm.unsplit.importRssBytes)}, after load ${
          mib(wasm.unsplit.loadRssBytes)
        }, peak unsplit ${mib(wasm.unsplit.peakRssBytes)}, peak photo (${wasm.photo.tiles} tiles) ${
          mib(wasm.photo.peakRssBytes)
        }, load ${(wasm.unsplit.loadMs / 1000).toFixed(1)} s, first token ${
          (wasm.unsplit.ttftMs / 1000).toFixed(1)
        } / ${(wasm.photo.ttftMs / 1000).toFixed(1)} s, decode ${
          wasm.unsplit.decodeTokensPerSec.toFixed(1)
        } tok/s (${(report.ratios.decode * 100).toFixed(0)}% of native×2)`,
      );
      console.error(
        `edge ${model.name}, embed_tokens session instead of the table: wasm after load ${
          mib(wasmAb.session.loadRssBytes)
        }, peak ${mib(wasmAb.session.peakRssBytes)}, decode ${
          wasmAb.session.decodeTokensPerSec.toFixed(1)
        } tok/s; native decode ${nativeAb.session.decodeTokensPerSec.toFixed(1)} tok/s (table ${
          nativeAb.table.decodeTokensPerSec.toFixed(1)
        })`,
      );
    }
    return {
      method: "edge bundle in `deno run --no-config --allow-read=<model>,<image>`, one " +
        "process per figure; peak = its VmHWM, read by the parent; native = sources, onnxruntime-node, 2 threads",
      runs: options.runs,
      models: reports,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
