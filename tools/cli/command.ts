/**
 * The shape every `vlm` subcommand has.
 *
 * @module
 */

/** One subcommand of the `vlm` CLI. */
export interface Command {
  /** Name typed after `vlm`. */
  name: string;
  /** One line for `vlm --help`. */
  summary: string;
  /** Full help text for `vlm <name> --help`. */
  usage: string;
  /** Runs the command; returns the process exit code. */
  run(args: string[]): Promise<number> | number;
}

/** Prints one JSON object (the `--json` contract: exactly one object on stdout). */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Formats a parameter or byte count with a unit suffix (e.g. 256.5M, 2.25B). */
export function humanCount(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(3)}B`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return String(value);
}

/** Formats a byte count with a decimal unit (e.g. 1.03 GB, 9.6 MB). */
export function humanBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}
