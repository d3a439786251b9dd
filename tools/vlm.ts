/**
 * `vlm`: the vlmkit command line (`deno task vlm <command>`).
 *
 * Exit codes: 0 success, 1 invalid input (e.g. an invalid spec), 2 usage
 * error, 70 internal error. Errors go to stderr; with `--json` they are one
 * JSON object `{error: {code, message, fix}}` on stdout.
 *
 * @module
 */
import { UsageError } from "../src/errors/usage_error.ts";
import { VlmError } from "../src/errors/vlm_error.ts";
import type { Command } from "./cli/command.ts";
import { withCliFix } from "./cli/max_pixels.ts";
import { benchCommand } from "./cli/bench_command.ts";
import { bundleCommand } from "./cli/bundle_command.ts";
import { convertCommand } from "./cli/convert_command.ts";
import { doctagsCommand } from "./cli/doctags_command.ts";
import { documentCommand } from "./cli/document_command.ts";
import { evalCommand } from "./cli/eval_command.ts";
import { inspectCommand } from "./cli/inspect_command.ts";
import { paramsCommand } from "./cli/params_command.ts";
import { pluginCommand } from "./cli/plugin_command.ts";
import { profileCommand } from "./cli/profile_command.ts";
import { pullCommand } from "./cli/pull_command.ts";
import { taskCommand } from "./cli/task_command.ts";
import { runCommand } from "./cli/run_command.ts";
import { serveCommand } from "./cli/serve_command.ts";
import { synthCommand } from "./cli/synth_command.ts";
import { tokensCommand } from "./cli/tokens_command.ts";
import { validateCommand } from "./cli/validate_command.ts";

const COMMANDS: readonly Command[] = [
  validateCommand,
  paramsCommand,
  tokensCommand,
  synthCommand,
  convertCommand,
  inspectCommand,
  pullCommand,
  runCommand,
  evalCommand,
  taskCommand,
  doctagsCommand,
  documentCommand,
  pluginCommand,
  bundleCommand,
  serveCommand,
  benchCommand,
  profileCommand,
];

function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    "Usage: vlm <command> [options]   (vlm <command> --help for details)",
    "",
    "Commands:",
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
  ].join("\n");
}

/** Runs the CLI with `args` and returns the exit code. Never throws. */
export async function main(args: string[]): Promise<number> {
  const wantsJson = args.includes("--json");
  let command: Command | undefined;
  try {
    const [name, ...rest] = args;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      console.log(mainUsage());
      return name === undefined ? 2 : 0;
    }
    command = COMMANDS.find((candidate) => candidate.name === name);
    if (!command) {
      throw new UsageError(
        `unknown command "${name}"`,
        `available: ${COMMANDS.map((c) => c.name).join(", ")} (vlm --help)`,
      );
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(command.usage);
      return 0;
    }
    return await command.run(rest);
  } catch (error) {
    if (error instanceof VlmError) {
      const shown = withCliFix(command, error);
      if (wantsJson) console.log(JSON.stringify(shown.toJSON(), null, 2));
      console.error(`error: ${shown.message}${shown.fix ? `\nfix: ${shown.fix}` : ""}`);
      return error instanceof UsageError || error.code === "usage" ? 2 : 1;
    }
    console.error("internal error (please report):", error);
    return 70;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
