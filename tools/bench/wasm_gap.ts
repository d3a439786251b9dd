/**
 * vlmkit's wasm decode under Deno against the same in headless Chromium, one
 * factor at a time: the same synthesized SmolVLM-256M folder, the same prompt
 * ids and token count, measured by the same code (wllama/page/decode_probe.js)
 * in both hosts, one wasm thread. Each case runs in a process (Deno) or a
 * fresh page (Chromium) of its own, and the cases alternate round by round so
 * that drift in the machine's load hits all alike; medians over rounds.
 *
 *   deno run -A tools/bench/wasm_gap.ts [--work DIR] [--dtype fp32,int8]
 *     [--prompt 512] [--tokens 128] [--rounds 3]
 *     [--case deno/edge] [--case chromium/browser] ... [--bandwidth]
 *   deno run -A tools/bench/wasm_gap.ts --matmul [--rounds 3]
 *   deno run -A tools/bench/wasm_gap.ts --copy-out [--rounds 3]
 *
 * A case is `host/bundle[/option...]`: host `deno` (bare `deno run --no-config`)
 * or `chromium` (the wasm-anchor page); bundle `edge` or `browser`; options
 * `noniso` (Chromium page without COOP/COEP), `session` (embed_tokens session
 * instead of the table), `copykv` (the KV cache copied out whole each step, the
 * `kvCache: "copy"` load option), `p<N>` (an N-token prompt instead of `--prompt`),
 * `site:<name>` (Chromium: the page and browser bundle in `WORK/<name>`, built
 * from this checkout unless it is there: keep an older build there to compare
 * bundles), `revisit` (Chromium: the page is loaded once before, in the same browser
 * context with cacheable responses, so that the measured visit may start
 * from the compiled code Chromium cached), `flag:<switch>` (a Chromium switch), `v8:<flag>` (a V8 flag: `--v8-flags` for
 * Deno, `--js-flags` for Chromium).
 *
 * `--bandwidth` also measures one-thread wasm memory bandwidth in both hosts
 * each round (wllama/page/bandwidth_probe.js) and prints the fp32 decode bound
 * (bandwidth / bytes a step reads, tools/bench/bounds.ts at the mean context)
 * and each fp32 case's fraction of it. `--matmul` times instead one fp32
 * MatMul [1,576]×[576,1536] and a chain of 32 such MatMuls (weights larger
 * than the caches) on onnxruntime-web in both hosts, as weight bytes per second.
 * `--copy-out` times a decode step's host-side copies alone in both hosts
 * (wllama/page/copy_out_probe.js: the 60 KV outputs of SmolVLM-256M copied out
 * of a shared heap into fresh arrays and back in, at a 160- and a 576-token
 * context).
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { synthesizedFolder } from "./synthesized_folder.ts";
import { prepareEdgeProbes } from "./edge.ts";
import { buildAnchorSite, runAnchorPage } from "./wllama/page_site.ts";
import { median } from "../median.ts";
import { wasmBandwidth } from "./wllama/page/bandwidth_probe.js";
import { timeMatmul } from "./wllama/page/matmul_probe.js";
import { copyOutStep } from "./wllama/page/copy_out_probe.js";
import { decodeBytesPerToken } from "./bounds.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { DEFAULT_PRESET, getPreset } from "../../variants/mod.ts";
import { GraphBuilder } from "../../src/build/onnx_graph.ts";
import { serializeModel } from "../../src/build/onnx_file.ts";
import { readDenoGraph } from "../cli/deno_resolver.ts";
import { ortWasmPath } from "../cli/wasm_embed.ts";

/** One way of running the decode. */
export interface GapCase {
  /** As given on the command line. */
  label: string;
  host: "deno" | "chromium";
  bundle: "edge" | "browser";
  isolated: boolean;
  embedding?: "session";
  kvCache?: "copy";
  revisit: boolean;
  site?: string;
  prompt?: number;
  browserArgs: string[];
  v8Flags: string[];
}

/** Parses `host/bundle[/option...]` (see the module doc). */
export function parseCase(label: string): GapCase {
  const [host, bundle, ...options] = label.split("/");
  if (
    (host !== "deno" && host !== "chromium") ||
    (bundle !== "edge" && bundle !== "browser")
  ) {
    throw new Error(
      `case ${label}: expected deno|chromium / edge|browser [/option...]`,
    );
  }
  const c: GapCase = {
    label,
    host,
    bundle,
    isolated: true,
    browserArgs: [],
    v8Flags: [],
    revisit: false,
  };
  for (const option of options) {
    if (option === "noniso") c.isolated = false;
    else if (option === "session") c.embedding = "session";
    else if (option === "copykv") c.kvCache = "copy";
    else if (option === "revisit") c.revisit = true;
    else if (option.startsWith("site:")) c.site = option.slice(5);
    else if (/^p\d+$/.test(option)) c.prompt = Number(option.slice(1));
    else if (option.startsWith("flag:")) c.browserArgs.push(option.slice(5));
    else if (option.startsWith("v8:")) c.v8Flags.push(option.slice(3));
    else throw new Error(`case ${label}: unknown option ${option}`);
  }
  return c;
}

/** What measureDecode returns (decode_probe.js). */
interface DecodeFigures {
  promptTokens: number;
  decodedTokens: number;
  decodeTokensPerSec: number;
  prefillMs: number;
  firstStepsMs: number;
  lastStepsMs: number;
  perRun: number[];
  ids: number[];
  crossOriginIsolated: boolean;
}

async function runDeno(
  dir: string,
  bundle: string,
  folder: string,
  args: Record<string, unknown>,
  v8Flags: string[],
): Promise<DecodeFigures> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-lock",
      "--no-prompt",
      ...(v8Flags.length ? [`--v8-flags=${v8Flags.join(",")}`] : []),
      `--allow-read=${folder},${dir},${dirname(bundle)}`,
      "wasm_gap_probe.js",
      JSON.stringify({
        ...args,
        bundle: new URL(`file://${bundle}`).href,
        model: folder,
      }),
    ],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(output.stdout).trim().split("\n").pop() ?? "";
  if (output.code !== 0 || !out.startsWith("{")) {
    throw new Error(
      `the Deno probe failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return JSON.parse(out);
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

/** Copy and read rates, bytes/s (bandwidth_probe.js). */
interface Bandwidth {
  copyBytesPerSec: number;
  readBytesPerSec: number;
}

/** Bandwidth in a fresh Chromium page of the site. */
async function pageBandwidth(site: string): Promise<Bandwidth> {
  const page = await runAnchorPage({
    site,
    routes: {},
    isolated: true,
    calls: [{ fn: "bandwidth", args: { megabytes: 256, runs: 5 } }],
  });
  return page.results[0] as Bandwidth;
}

/**
 * fp32 MatMul models with input `x` [1, 576]: one [576, 1536] weight, or `pairs` up/down pairs
 * (576→1536→576) of distinct weights. Returns the bytes and the weights' size.
 */
function matmulModel(pairs: number): { bytes: Uint8Array; weightBytes: number; k: number } {
  const K = 576;
  const N = 1536;
  const g = new GraphBuilder("matmul");
  let x = g.input("x", "float32", [1, K]);
  let seed = 1;
  const floats = (n: number) =>
    Float32Array.from({ length: n }, () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed / 0x7fffffff - 0.5) * 0.1;
    });
  const layer = (name: string, k: number, n: number) =>
    g.op("MatMul", [x, g.weight(name, { type: "float32", dims: [k, n], data: floats(k * n) })]);
  if (pairs === 0) x = layer("w", K, N);
  for (let i = 0; i < pairs; i++) {
    x = layer(`up${i}`, K, N);
    x = layer(`down${i}`, N, K);
  }
  g.output(x, "y", "float32", [1, pairs === 0 ? N : K]);
  return {
    bytes: serializeModel(g.toModel()).model,
    weightBytes: 4 * K * N * Math.max(1, 2 * pairs),
    k: K,
  };
}

/** A decode step's output and input copies in both hosts, alternating. */
async function copyOutRounds(site: string, rounds: number): Promise<void> {
  const rows = new Map<string, number[]>();
  const add = (key: string, v: number) => rows.set(key, [...(rows.get(key) ?? []), v]);
  const load = [Deno.loadavg()[0]];
  // [1, 3 kv heads, context, 64] floats per tensor, 30 layers × key/value.
  const contexts = [160, 576];
  for (let round = 0; round < rounds; round++) {
    // The heap shared (as ORT's threaded build has it) and not, to tell the two costs apart.
    const variants = contexts.flatMap((c) => [true, false].map((shared) => ({ c, shared })));
    const calls = variants.map(({ c, shared }) => ({
      fn: "copyOut" as const,
      args: { tensors: 60, floats: 3 * c * 64, shared },
    }));
    const page = await runAnchorPage({
      site,
      routes: {},
      isolated: true,
      calls,
      sameContext: true,
    });
    variants.forEach(({ c, shared }, i) => {
      const label = `${c}-token context, ${shared ? "shared" : "plain"} heap`;
      const chromium = page.results[i] as { msPerStep: number; megabytesPerStep: number };
      add(`chromium ${label} (${chromium.megabytesPerStep.toFixed(1)} MB) ms`, chromium.msPerStep);
      const deno = copyOutStep({ tensors: 60, floats: 3 * c * 64, shared });
      add(`deno ${label} (${deno.megabytesPerStep.toFixed(1)} MB) ms`, deno.msPerStep);
    });
    console.error(`round ${round + 1} done, load ${Deno.loadavg()[0].toFixed(2)}`);
  }
  load.push(Deno.loadavg()[0]);
  printRows(rows, load);
}

function printRows(rows: Map<string, number[]>, load: number[]): void {
  console.error(`\nload average ${load[0].toFixed(2)} → ${load[1].toFixed(2)}; medians (rounds):`);
  for (const [key, values] of rows) {
    console.error(
      `${key.padEnd(44)}${median(values).toFixed(3).padStart(10)}  (${
        values.map((v) => v.toFixed(2)).join(", ")
      })`,
    );
  }
}

/** The two MatMul models in both hosts, alternating, with bandwidth in the same rounds. */
async function matmulRounds(work: string, site: string, rounds: number): Promise<void> {
  const ortDist = dirname(
    ortWasmPath(
      await readDenoGraph(new URL("../../src/runtime/backend.ts", import.meta.url).pathname),
    ),
  );
  const ort = await import("onnxruntime-web/wasm");
  const models = { "1 MatMul (3.5 MB)": matmulModel(0), "32 MatMuls (113 MB)": matmulModel(16) };
  const dir = join(work, "matmul");
  await Deno.mkdir(dir, { recursive: true });
  const rows = new Map<string, number[]>();
  const add = (key: string, v: number) => rows.set(key, [...(rows.get(key) ?? []), v]);
  const load = [Deno.loadavg()[0]];
  for (let round = 0; round < rounds; round++) {
    for (const [label, model] of Object.entries(models)) {
      const file = `${label.split(" ")[0]}.onnx`;
      await Deno.writeFile(join(dir, file), model.bytes);
      const options = { k: model.k, weightBytes: model.weightBytes };
      const page = await runAnchorPage({
        site,
        routes: { "/matmul/": dir, "/ort/": ortDist },
        isolated: true,
        calls: [{
          fn: "matmul",
          args: { ort: "/ort/ort.wasm.min.mjs", model: `/matmul/${file}`, ...options },
        }],
      });
      const chromium = page.results[0] as { ms: number; weightBytesPerSec: number };
      const deno = await timeMatmul(ort, model.bytes, options);
      add(`chromium ${label} ms`, chromium.ms);
      add(`chromium ${label} GB/s`, chromium.weightBytesPerSec / 1e9);
      add(`deno ${label} ms`, deno.ms);
      add(`deno ${label} GB/s`, deno.weightBytesPerSec / 1e9);
    }
    const chromium = await pageBandwidth(site);
    const deno = await wasmBandwidth({ megabytes: 256, runs: 5 });
    add("chromium copy GB/s", chromium.copyBytesPerSec / 1e9);
    add("chromium read GB/s", chromium.readBytesPerSec / 1e9);
    add("deno copy GB/s", deno.copyBytesPerSec / 1e9);
    add("deno read GB/s", deno.readBytesPerSec / 1e9);
    console.error(`round ${round + 1} done, load ${Deno.loadavg()[0].toFixed(2)}`);
  }
  load.push(Deno.loadavg()[0]);
  printRows(rows, load);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      work: { type: "string", default: "/tmp/vlmkit-wasm-gap" },
      dtype: { type: "string", default: "fp32,int8" },
      prompt: { type: "string", default: "512" },
      tokens: { type: "string", default: "128" },
      rounds: { type: "string", default: "3" },
      runs: { type: "string", default: "1" },
      case: { type: "string", multiple: true },
      bandwidth: { type: "boolean", default: false },
      matmul: { type: "boolean", default: false },
      "copy-out": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const work = values.work!;
  await Deno.mkdir(work, { recursive: true });
  const cases = (values.case?.length ? values.case : ["deno/edge", "chromium/browser"]).map(
    parseCase,
  );
  const dtypes = values.dtype!.split(",") as ("fp32" | "int8")[];
  const edgeDir = join(work, "edge");
  const site = join(work, "site");
  try {
    await Deno.stat(join(edgeDir, "vlmkit.edge.js"));
  } catch {
    await prepareEdgeProbes(edgeDir);
  }
  for (const file of ["wasm_gap_probe.js", "wllama/page/decode_probe.js"]) {
    await Deno.copyFile(
      new URL(file, import.meta.url),
      join(edgeDir, file.split("/").pop()!),
    );
  }
  await buildAnchorSite(site);
  if (values["copy-out"]) {
    await copyOutRounds(site, Number(values.rounds));
    Deno.exit(0);
  }
  if (values.matmul) {
    await matmulRounds(work, site, Number(values.rounds));
    Deno.exit(0);
  }
  const folders = Object.fromEntries(
    await Promise.all(
      dtypes.map(async (d) => [d, await synthesizedFolder(work, d)] as const),
    ),
  );
  const results = new Map<string, DecodeFigures[]>();
  const load = [Deno.loadavg()[0]];
  const bandwidth: Record<"deno" | "chromium", Bandwidth[]> = { deno: [], chromium: [] };
  for (let round = 0; round < Number(values.rounds); round++) {
    if (values.bandwidth) {
      bandwidth.chromium.push(await pageBandwidth(site));
      bandwidth.deno.push(await wasmBandwidth({ megabytes: 256, runs: 5 }));
    }
    for (const dtype of dtypes) {
      for (const c of cases) {
        const args = {
          dtype,
          threads: 1,
          prompt: c.prompt ?? Number(values.prompt),
          tokens: Number(values.tokens),
          runs: Number(values.runs),
          ...(c.embedding ? { embedding: c.embedding } : {}),
          ...(c.kvCache ? { kvCache: c.kvCache } : {}),
        };
        let figures: DecodeFigures;
        if (c.host === "deno") {
          const bundle = c.bundle === "edge"
            ? join(edgeDir, "vlmkit.edge.js")
            : join(site, "vlmkit.browser.js");
          figures = await runDeno(edgeDir, bundle, folders[dtype], args, c.v8Flags);
        } else {
          const call = {
            fn: "decode" as const,
            args: {
              ...args,
              model: "/model/",
              ...(c.bundle === "edge" ? { bundle: "/edge/vlmkit.edge.js" } : {}),
            },
          };
          const page = await runAnchorPage({
            site: c.site ? join(work, c.site) : site,
            sameContext: c.revisit,
            cacheable: c.revisit,
            routes: { "/model/": folders[dtype], "/edge/": edgeDir },
            isolated: c.isolated,
            browserArgs: [
              ...c.browserArgs,
              ...(c.v8Flags.length ? [`--js-flags=${c.v8Flags.join(" ")}`] : []),
            ],
            calls: c.revisit ? [{ ...call, args: { ...call.args, tokens: 32 } }, call] : [call],
          });
          figures = page.results[page.results.length - 1] as DecodeFigures;
        }
        const key = `${dtype} ${c.label}`;
        results.set(key, [...(results.get(key) ?? []), figures]);
        console.error(
          `round ${round + 1} ${key}: ${figures.decodeTokensPerSec.toFixed(2)} tok/s, steps ${
            figures.firstStepsMs.toFixed(1)
          } → ${
            figures.lastStepsMs.toFixed(1)
          } ms (prompt ${figures.promptTokens}, isolated ${figures.crossOriginIsolated}), load ${
            Deno.loadavg()[0].toFixed(2)
          }`,
        );
      }
    }
  }
  load.push(Deno.loadavg()[0]);
  const summary = [...results].map(([key, all]) => ({
    case: key,
    promptTokens: all[0].promptTokens,
    decodedTokens: all[0].decodedTokens,
    decodeTokensPerSec: median(all.map((f) => f.decodeTokensPerSec)),
    firstStepsMs: median(all.map((f) => f.firstStepsMs)),
    lastStepsMs: median(all.map((f) => f.lastStepsMs)),
    prefillMs: median(all.map((f) => f.prefillMs)),
    sameIds: all.every((f) => f.ids.join() === all[0].ids.join()),
    perRound: all.map((f) => Number(f.decodeTokensPerSec.toFixed(2))),
  }));
  console.error(
    `\nload average ${load[0].toFixed(2)} → ${load[1].toFixed(2)}; medians:`,
  );
  for (const s of summary) {
    console.error(
      `${s.case.padEnd(44)}${s.decodeTokensPerSec.toFixed(2).padStart(8)} tok/s  steps ${
        s.firstStepsMs.toFixed(1)
      } → ${s.lastStepsMs.toFixed(1)} ms  (${s.perRound.join(", ")})`,
    );
  }
  const bounds: Record<string, unknown>[] = [];
  if (values.bandwidth) {
    const plan = resolve(getPreset(DEFAULT_PRESET));
    for (const host of ["deno", "chromium"] as const) {
      const copy = median(bandwidth[host].map((b) => b.copyBytesPerSec));
      const read = median(bandwidth[host].map((b) => b.readBytesPerSec));
      for (const s of summary.filter((s) => s.case.startsWith(`fp32 ${host}/`))) {
        // The mean context over the decoded tokens.
        const bytes = decodeBytesPerToken(plan, "fp32", s.promptTokens + s.decodedTokens / 2);
        const bound = { copy: copy / bytes, read: read / bytes };
        bounds.push({ case: s.case, copyGBps: copy / 1e9, readGBps: read / 1e9, bytes, bound });
        console.error(
          `${s.case}: ${(bytes / 1e6).toFixed(0)} MB a step; one-thread wasm copy ${
            (copy / 1e9).toFixed(2)
          } GB/s (read+write), read ${(read / 1e9).toFixed(2)} GB/s → bound ${
            bound.copy.toFixed(1)
          } / ${bound.read.toFixed(1)} tok/s; decode ${s.decodeTokensPerSec.toFixed(2)} = ${
            (100 * s.decodeTokensPerSec / bound.copy).toFixed(0)
          }% / ${(100 * s.decodeTokensPerSec / bound.read).toFixed(0)}%`,
        );
      }
    }
  }
  if (values.json) console.log(JSON.stringify({ loadAverage: load, summary, bandwidth, bounds }));
}
