/**
 * `vlm profile --model DIR [--dtype D] [--runs N] [--tokens N] [--json]`: a
 * model measured as an edge function runs it — through the edge bundle in a
 * child `deno run --no-config` (the bench's edge section, tools/bench/edge.ts)
 * — its RSS after the import and after load, and its peak RSS (VmHWM, read by
 * this process from /proc) for an unsplit 512² image and for a 1024×768
 * photo at the edge defaults (5 tiles), then the verdict per platform from
 * those peaks, beside the estimate `vlm synth --json` gives.
 *
 * @module
 */
import { resolve as resolvePath } from "node:path";
import { estimateEdgePeak, platformVerdicts } from "../../src/profile/edge_verdict.ts";
import { describeModelFolder } from "../../src/runtime/model_spec.ts";
import { openModelFolder } from "../../src/runtime/model_folder.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { measureEdgeWasm, type ProbeFigures } from "../bench/edge.ts";
import { writeEdgeImages } from "../bench/inputs.ts";
import { optionalNumber, type ParsedArgs, parseDtype } from "./args.ts";
import { printJson } from "./command.ts";

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** The figures of one request kind that the report keeps. */
function kept(f: ProbeFigures) {
  return {
    peakRssBytes: f.peakRssBytes,
    tiles: f.tiles,
    ttftMs: f.ttftMs,
    decodeTokensPerSec: f.decodeTokensPerSec,
  };
}

/** Runs the edge profile of `--model`; prints a table, or the report with `--json`. */
export async function profileEdge(parsed: ParsedArgs, folder: string): Promise<number> {
  const dtype = parseDtype("profile", parsed);
  const runs = optionalNumber("profile", parsed, "runs", { min: 1, max: 50, integer: true }) ?? 1;
  const tokens = optionalNumber("profile", parsed, "tokens", { min: 1, max: 512, integer: true }) ??
    16;
  // The Plan from the folder's configs alone (no session is created here).
  const { spec } = await describeModelFolder(openModelFolder(folder), { dtype });
  const estimate = estimateEdgePeak(resolve(spec), { maxNewTokens: tokens });
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-profile-edge-" });
  let measured;
  try {
    const images = await writeEdgeImages(dir);
    measured = await measureEdgeWasm(
      // Absolute: the probe runs in the bundle's folder.
      { name: spec.name, folder: resolvePath(folder), dtype },
      images,
      { runs, tokens },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const peakBytes = { unsplit: measured.unsplit.peakRssBytes, photo: measured.photo.peakRssBytes };
  const report = {
    model: folder,
    variant: spec.name,
    dtype: dtype ?? null,
    backend: "wasm",
    method: "edge bundle in `deno run --no-config --allow-read=<model>,<image>`, one process " +
      "per figure (medians of `runs`); peak = the child's VmHWM read from /proc/<pid>/status",
    runs,
    tokens,
    measured: {
      kind: "measured" as const,
      importRssBytes: measured.unsplit.importRssBytes,
      afterLoadBytes: measured.unsplit.loadRssBytes,
      loadMs: measured.unsplit.loadMs,
      peakBytes,
      unsplit: kept(measured.unsplit),
      photo: kept(measured.photo),
      platforms: platformVerdicts(peakBytes),
    },
    estimate,
  };
  if (parsed.values.json) {
    printJson(report);
    return 0;
  }
  console.log(
    `${spec.name} on wasm through the edge bundle (${runs} run${runs > 1 ? "s" : ""}): ` +
      `RSS ${mib(report.measured.importRssBytes)} after import, ${
        mib(report.measured.afterLoadBytes)
      } after load; peak ${mib(peakBytes.unsplit)} unsplit 512², ${
        mib(peakBytes.photo)
      } for a 1024×768 photo (${measured.photo.tiles} tiles)`,
  );
  const yes = (ok: boolean) => ok ? "fits" : "no";
  for (const [i, verdict] of report.measured.platforms.entries()) {
    const guess = estimate.platforms[i];
    console.log(
      `  ${verdict.platform.padEnd(24)} ${(verdict.limitBytes / 1e6).toFixed(0).padStart(4)} MB: ` +
        `unsplit ${yes(verdict.unsplit)}, photo ${yes(verdict.photo)}` +
        `  (estimate: ${yes(guess.unsplit)}, ${yes(guess.photo)})`,
    );
  }
  return 0;
}
