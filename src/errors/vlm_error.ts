/**
 * The one error type vlmkit throws on purpose. Every failure the user can cause
 * (bad spec, bad flag, bad file) becomes a `VlmError` with a stable `code`, a
 * message that says what was wrong, and a `fix` that says what to do about it.
 * The Hub client's and the HTTP server's errors use the same codes.
 *
 * @module
 */
import { issuesMessage, type VlmIssue } from "./issue.ts";

/** Stable, machine-readable error codes. Scripts may switch on these. */
export type VlmErrorCode =
  /** A variant spec fails validation. */
  | "spec_invalid"
  /** A named spec or spec file does not exist. */
  | "spec_not_found"
  /** A bad command line or API call (unknown option, disposed model, ...). */
  | "usage"
  /** A request is malformed (generate options, HTTP body, plugin options). */
  | "input_invalid"
  /** The prompt and the requested new tokens do not fit the model's context. */
  | "budget_unsatisfiable"
  /** An image cannot be decoded. */
  | "image_invalid"
  /** An image format that is not supported. */
  | "image_unsupported"
  /** An image beyond the pixel limit. */
  | "image_too_large"
  /** A model folder or file is missing or unreadable. */
  | "model_invalid"
  /** Model files that do not fit each other or their configuration. */
  | "model_mismatch"
  /** A model too large for the chosen backend. */
  | "model_too_large"
  /** A task plugin failed or returned a result off its schema. */
  | "plugin_failed"
  /** The exchange with a model hub failed (auth, not found, unreachable, HTTP). */
  | "hub_error"
  /** The caller aborted the request. */
  | "aborted"
  /** HTTP: no such route or task. */
  | "not_found"
  /** HTTP: the request body is larger than the server accepts. */
  | "payload_too_large"
  /** HTTP: the server's request queue is full. */
  | "queue_full"
  /** HTTP: a request waited its longest for a turn in the server's queue. */
  | "queue_timeout"
  /** HTTP: the request ran past the server's time limit. */
  | "timeout"
  /** HTTP: reading a request's images ran past the server's image time budget. */
  | "image_timeout"
  /** HTTP: an unexpected failure inside the server. */
  | "internal";

/** Options for {@linkcode VlmError}. */
export interface VlmErrorOptions {
  /** What the user can do to make the error go away. */
  fix?: string;
  /** The underlying error, if any. */
  cause?: unknown;
  /** Every problem found, when validation collected several. */
  issues?: readonly VlmIssue[];
}

/** The JSON shape of an error, as the CLI prints it and the server sends it. */
export interface VlmErrorJson {
  /** The error. */
  error: { code: VlmErrorCode; message: string; fix?: string; issues?: readonly VlmIssue[] };
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
  /** Every problem validation found (empty when the error is about one thing). */
  readonly issues: readonly VlmIssue[];

  /** Creates an error with a code, a message and an optional fix. */
  constructor(code: VlmErrorCode, message: string, options: VlmErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "VlmError";
    this.code = code;
    this.fix = options.fix;
    this.issues = options.issues ?? [];
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * One error for every issue of a validation: the message lists them all
   * under `head`, and `fix` joins their distinct fixes.
   */
  static fromIssues(code: VlmErrorCode, head: string, issues: readonly VlmIssue[]): VlmError {
    const fixes = [...new Set(issues.flatMap((issue) => issue.fix ? [issue.fix] : []))];
    return new VlmError(code, issuesMessage(head, issues), {
      fix: fixes.length > 0 ? fixes.join("; ") : undefined,
      issues,
    });
  }

  /** A JSON-friendly view of the error, as the CLI prints it with `--json`. */
  toJSON(): VlmErrorJson {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.fix ? { fix: this.fix } : {}),
        ...(this.issues.length > 0 ? { issues: this.issues } : {}),
      },
    };
  }
}
