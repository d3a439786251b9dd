/**
 * The one error type vlmkit throws on purpose. Every failure the user can cause
 * (bad spec, bad flag, bad file) becomes a `VlmError` with a stable `code`, a
 * message that says what was wrong, and a `fix` that says what to do about it.
 *
 * @module
 */

/** Stable, machine-readable error codes. Scripts may switch on these. */
export type VlmErrorCode =
  | "spec_invalid"
  | "spec_not_found"
  | "usage"
  | "input_invalid"
  | "budget_unsatisfiable"
  | "image_invalid"
  | "image_unsupported"
  | "image_too_large"
  | "model_invalid"
  | "model_mismatch"
  | "model_too_large"
  | "plugin_failed"
  | "hub_error"
  | "aborted";

/** Options for {@linkcode VlmError}. */
export interface VlmErrorOptions {
  /** What the user can do to make the error go away. */
  fix?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/** Marks VlmErrors across copies of vlmkit (a bundled plugin carries its own copy of this class). */
const BRAND = Symbol.for("vlmkit.VlmError");

/**
 * Base class of every error vlmkit raises deliberately. `instanceof VlmError`
 * also holds for errors made by another copy of vlmkit, e.g. the one inlined
 * in a plugin bundle, so their codes and fixes reach the caller intact.
 */
export class VlmError extends Error {
  /** Brand-based for VlmError itself; subclasses keep ordinary prototype checks. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== VlmError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** Stable machine-readable code. */
  readonly code: VlmErrorCode;
  /** A short instruction on how to fix the problem, when one is known. */
  readonly fix: string | undefined;

  /** Creates an error with a code, a message and an optional fix. */
  constructor(code: VlmErrorCode, message: string, options: VlmErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "VlmError";
    this.code = code;
    this.fix = options.fix;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** A JSON-friendly view of the error, as the CLI prints it with `--json`. */
  toJSON(): { error: { code: VlmErrorCode; message: string; fix?: string } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.fix ? { fix: this.fix } : {}),
      },
    };
  }
}
