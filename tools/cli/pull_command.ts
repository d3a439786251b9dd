/**
 * `vlm pull REPO [--revision R] [--dtype D] [--hub-url URL] [--cache DIR]
 * [--json]`: downloads the files one variant of a Hugging Face Hub repo needs
 * into the cache and prints the folder, so `vlm run --model "$(vlm pull …)"`
 * works.
 *
 * @module
 */
import { UsageError } from "../../src/errors/usage_error.ts";
import { pullModel } from "../../src/hub/pull.ts";
import type { PullProgress } from "../../src/hub/progress.ts";
import { optionalNumber, parseCommandArgs, parseDtype } from "./args.ts";
import { type Command, humanBytes, printJson } from "./command.ts";

const usage =
  `Usage: vlm pull REPO [--revision R] [--dtype D] [--hub-url URL] [--cache DIR] [--json]

Downloads a model from the Hugging Face Hub (or a mirror) into the local cache
and prints its folder, ready for \`vlm run --model\`. Only the configs and the
ONNX files of the requested dtype are fetched; interrupted downloads resume;
every file is checked against the hash the hub lists. Once complete, the
model is used from the cache when the hub cannot be reached.

Options:
  --revision R    branch, tag or commit id (default main); a commit id pins the files
  --dtype D       ONNX file variant: fp32, fp16, int8, uint8, q8, q4, q4f16, bnb4
                  (default: the first form with a file for every module, fp32 first;
                  modular vlmkit repos: the dtypes in their vlmkit.json)
  --hub-url URL   hub or mirror base URL (default $HF_ENDPOINT, else https://huggingface.co)
  --cache DIR     cache folder (default $HF_HOME/vlmkit, else ~/.cache/vlmkit/hub)
  --connect-timeout-ms N  give up on a hub request not answered within N ms (default 30000)
  --idle-timeout-ms N     give up on a download silent for N ms (default 60000)
  --json          print {repo, revision, commit, path, files: [{path, bytes}], bytes}

Environment:
  HF_TOKEN        token for private or gated repos (sent as Authorization: Bearer)
  HF_HUB_OFFLINE  1 = use the cache only

Progress goes to stderr: a bar on a terminal, one line per file otherwise.`;

const BAR_WIDTH = 24;

/** One progress-bar line (no newline): bar, percentage, bytes, file count and current file. */
export function formatProgressBar(progress: PullProgress, columns = 100): string {
  const fraction = progress.total > 0 ? progress.bytes / progress.total : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const line =
    `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${
      (fraction * 100).toFixed(0).padStart(3)
    }%  ${humanBytes(progress.bytes)} / ${humanBytes(progress.total)}  ` +
    `${progress.filesDone}/${progress.fileCount}  ${progress.file}`;
  return line.length > columns ? `${line.slice(0, Math.max(0, columns - 1))}…` : line;
}

/** One line per completed file, for logs and pipes. */
export function formatFileLine(progress: PullProgress): string {
  const percent = progress.total > 0 ? Math.floor((progress.bytes / progress.total) * 100) : 100;
  return `${progress.filesDone}/${progress.fileCount}  ${progress.file}  ${
    humanBytes(progress.fileTotal)
  }  (${percent}%)`;
}

/** Where `vlm pull` sends progress. */
export interface ProgressReporter {
  /** Takes one event. */
  report(progress: PullProgress): void;
  /** Finishes the output (ends the bar's line). */
  end(): void;
}

/** A progress sink for stderr: a redrawn bar on a terminal, one line per finished file otherwise. */
export function progressReporter(terminal = Deno.stderr.isTerminal()): ProgressReporter {
  const encoder = new TextEncoder();
  if (!terminal) {
    let done = 0;
    return {
      report(progress) {
        if (progress.filesDone > done) {
          done = progress.filesDone;
          console.error(formatFileLine(progress));
        }
      },
      end() {},
    };
  }
  let last = 0;
  let drawn = false;
  const draw = (progress: PullProgress) => {
    let columns = 100;
    try {
      // A pseudo-terminal may report zero columns.
      columns = Deno.consoleSize().columns || columns;
    } catch {
      // not a console after all: keep the default width
    }
    Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${formatProgressBar(progress, columns)}`));
    drawn = true;
  };
  return {
    report(progress) {
      // Redraw at most ten times a second, and always for the final state.
      const now = performance.now();
      if (now - last >= 100 || progress.bytes === progress.total) {
        last = now;
        draw(progress);
      }
    },
    end() {
      if (drawn) Deno.stderr.writeSync(encoder.encode("\n"));
    },
  };
}

/** `vlm pull`. */
export const pullCommand: Command = {
  name: "pull",
  summary: "download a model from the Hugging Face Hub into the local cache",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("pull", args, {
      revision: { type: "string" },
      dtype: { type: "string" },
      "hub-url": { type: "string" },
      cache: { type: "string" },
      "connect-timeout-ms": { type: "string" },
      "idle-timeout-ms": { type: "string" },
    });
    if (parsed.positionals.length !== 1) {
      throw new UsageError(
        `vlm pull: expected one repo id, got ${parsed.positionals.length}`,
        "run `vlm pull owner/name` (see `vlm pull --help`)",
      );
    }
    const [repo] = parsed.positionals;
    const hubUrl = parsed.values["hub-url"] as string | undefined;
    if (hubUrl !== undefined && !/^https?:\/\/[^/]/.test(hubUrl)) {
      throw new UsageError(
        `vlm pull: --hub-url ${hubUrl} is not an http(s) URL`,
        "pass e.g. --hub-url https://hf-mirror.com",
      );
    }
    const reporter = progressReporter();
    const pulled = await pullModel(repo, {
      revision: parsed.values.revision as string | undefined,
      // Without --dtype, modular repos keep the dtypes their manifest names.
      dtype: parsed.values.dtype === undefined ? undefined : parseDtype("pull", parsed),
      hubUrl,
      cacheDir: parsed.values.cache as string | undefined,
      connectTimeoutMs: optionalNumber("pull", parsed, "connect-timeout-ms", {
        min: 1,
        max: 3_600_000,
        integer: true,
      }),
      idleTimeoutMs: optionalNumber("pull", parsed, "idle-timeout-ms", {
        min: 1,
        max: 3_600_000,
        integer: true,
      }),
      onProgress: (progress) => reporter.report(progress),
    }).finally(() => reporter.end());
    if (parsed.values.json) {
      printJson({
        repo: pulled.repo,
        revision: pulled.revision,
        commit: pulled.commit,
        path: pulled.path,
        files: pulled.files.map((file) => ({ path: file.path, bytes: file.size })),
        bytes: pulled.bytes,
      });
    } else {
      const how = pulled.fromCache
        ? "from the cache"
        : `${pulled.downloaded.length} downloaded, ${
          pulled.files.length - pulled.downloaded.length
        } cached`;
      console.error(
        `${pulled.repo}@${pulled.revision} (${
          pulled.commit.slice(0, 10)
        }): ${pulled.files.length} files, ${humanBytes(pulled.bytes)} (${how})`,
      );
      console.log(pulled.path);
    }
    return 0;
  },
};
