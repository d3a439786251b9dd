/**
 * The error type of the Hub client. It is a {@linkcode VlmError} (so the CLI
 * and scripts handle it like every other deliberate failure) with a finer
 * `reason`, and it turns HTTP statuses and the `@huggingface/hub` errors into
 * messages that say what to do.
 *
 * @module
 */
import { HubApiError } from "./hub_library.ts";
import { VlmError, type VlmErrorCode } from "../errors/vlm_error.ts";

/** Why a pull failed. Stable: scripts and tests may switch on it. */
export type HubErrorReason =
  /** The hub refused the request (401/403) or the token is malformed. */
  | "auth"
  /** The repo, revision or a file does not exist. */
  | "not_found"
  /** The hub could not be reached and the cache has no complete copy. */
  | "unreachable"
  /** The hub did not answer, or went silent mid-response, within the time limit. */
  | "timeout"
  /** Any other failed HTTP exchange. */
  | "http"
  /** A downloaded file does not match the size or hash the listing gave. */
  | "integrity"
  /** The listing names a path that would land outside the cache. */
  | "unsafe_path"
  /** The listing is not what the Hub API returns (bad sizes, hashes, types). */
  | "listing_invalid"
  /** The repo lacks files the requested variant needs. */
  | "incomplete_repo";

// A failed exchange with the hub is "hub_error"; files that arrived but cannot be
// trusted or used are "model_invalid", like any other unreadable model source.
const CODE: Record<HubErrorReason, VlmErrorCode> = {
  auth: "hub_error",
  not_found: "hub_error",
  unreachable: "hub_error",
  timeout: "hub_error",
  http: "hub_error",
  integrity: "model_invalid",
  unsafe_path: "model_invalid",
  listing_invalid: "model_invalid",
  incomplete_repo: "model_invalid",
};

/** A failed pull from a Hugging Face Hub (or a mirror). */
export class HubError extends VlmError {
  /** What went wrong, more precisely than `code`. */
  readonly reason: HubErrorReason;
  /** The HTTP status, when the hub answered with an error status. */
  readonly status: number | undefined;

  /** Creates the error; `fix` says what the user can do. */
  constructor(
    reason: HubErrorReason,
    message: string,
    options: { fix?: string; cause?: unknown; status?: number },
  ) {
    super(CODE[reason], message, options);
    this.name = "HubError";
    this.reason = reason;
    this.status = options.status;
  }
}

/** What the request was about, for messages. */
export interface RequestContext {
  /** `owner/name`. */
  repo: string;
  /** The revision asked for. */
  revision: string;
  /** The file, when the request was for one. */
  path?: string;
  /** Whether a token was sent. */
  withToken: boolean;
}

function subject(context: RequestContext): string {
  const at = `${context.repo}@${context.revision}`;
  return context.path ? `${context.path} in ${at}` : at;
}

/** The error for an HTTP status other than success. */
export function errorForStatus(status: number, context: RequestContext): HubError {
  if (status === 401 || status === 403) {
    const message = context.withToken
      ? `the hub refused the token (HF_TOKEN) for ${subject(context)} (HTTP ${status})`
      : `the hub needs a token for ${subject(context)} (HTTP ${status}) and HF_TOKEN is not set`;
    return new HubError("auth", message, {
      status,
      fix: context.withToken
        ? "set HF_TOKEN to a token with read access to the repo (and accept its terms if it is gated)"
        : "set HF_TOKEN to a read token (https://huggingface.co/settings/tokens); the repo may also not exist",
    });
  }
  if (status === 404) {
    return new HubError("not_found", `${subject(context)} was not found on the hub (HTTP 404)`, {
      status,
      fix: "check the repo id, the --revision and, for mirrors, --hub-url",
    });
  }
  return new HubError("http", `the hub answered HTTP ${status} for ${subject(context)}`, {
    status,
    fix: "try again later; if it persists, check --hub-url",
  });
}

/** Whether `error` is fetch's failure to connect or to read a response (not an HTTP status). */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError;
}

/**
 * Translates what a call into `@huggingface/hub` (or `fetch`) threw into a
 * {@linkcode HubError}; aborts and errors that are already typed pass through.
 */
export function toHubError(error: unknown, context: RequestContext): unknown {
  if (error instanceof VlmError) return error;
  if (error instanceof DOMException && error.name === "AbortError") return error;
  if (error instanceof HubApiError) return errorForStatus(error.statusCode, context);
  // The library checks the token's shape before sending anything.
  if (error instanceof TypeError && /access token/i.test(error.message)) {
    return new HubError("auth", `HF_TOKEN is not a Hugging Face token: ${error.message}`, {
      fix:
        "set HF_TOKEN to a token from https://huggingface.co/settings/tokens (it starts with hf_)",
      cause: error,
    });
  }
  if (isNetworkError(error)) {
    return new HubError(
      "unreachable",
      `cannot reach the hub for ${subject(context)}: ${(error as Error).message}`,
      {
        fix:
          "check the network and --hub-url; a model pulled before is used from the cache when the hub is down",
        cause: error,
      },
    );
  }
  return error;
}
