import { VlmError } from "./vlm_error.ts";

/** Thrown for a bad command line: unknown command or flag, missing or malformed value. */
export class UsageError extends VlmError {
  /** Creates a usage error; `fix` usually points at `--help`. */
  constructor(message: string, fix?: string) {
    super("usage", message, { fix });
    this.name = "UsageError";
  }
}
