/**
 * Repo ids (`owner/name`), revisions and `hf:owner/name[@revision]` sources,
 * checked before they reach a URL or a cache path.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";

/** The branch pulled when no revision is given. */
export const DEFAULT_REVISION = "main";

/** The scheme of a model source that names a Hub repo. */
export const HF_SCHEME = "hf:";

// The Hub's own rule for repo name parts: letters, digits, `-`, `_`, `.`;
// no leading/trailing `-`/`.`, no `--` or `..`, at most 96 characters.
const NAME_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$/;

/** Checks a repo id (`owner/name`, or a bare legacy `name`) and returns it. */
export function checkRepoId(repo: string): string {
  const parts = repo.split("/");
  const valid = parts.length <= 2 &&
    parts.every((part) => NAME_PART.test(part) && !part.includes("--") && !part.includes(".."));
  if (!valid) {
    throw new VlmError("input_invalid", `"${repo}" is not a Hugging Face model repo id`, {
      fix: "write it as owner/name, e.g. HuggingFaceTB/SmolVLM-256M-Instruct",
    });
  }
  return repo;
}

// Control characters and backslashes have no place in a revision or a path.
// deno-lint-ignore no-control-regex
const UNSAFE_CHAR = /[\x00-\x1f\x7f\\]/;

/** Checks a revision (branch, tag or commit id) and returns it. */
export function checkRevision(revision: string): string {
  const bad = revision.length === 0 || revision.length > 255 || UNSAFE_CHAR.test(revision) ||
    revision.split("/").some((part) => part === "" || part === "." || part === "..");
  if (bad) {
    throw new VlmError("input_invalid", `"${revision}" is not a git revision`, {
      fix: "pass a branch, a tag or a 40-character commit id, e.g. --revision main",
    });
  }
  return revision;
}

/** Whether `revision` is a full commit id (immutable, so a cached copy is always current). */
export function isCommitId(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/** A parsed `hf:` source. */
export interface HfSource {
  /** `owner/name`. */
  repo: string;
  /** The revision after `@`, if any. */
  revision?: string;
}

/** Parses `hf:owner/name` or `hf:owner/name@revision`. */
export function parseHfSource(source: string): HfSource {
  if (!source.startsWith(HF_SCHEME)) {
    throw new VlmError("input_invalid", `"${source}" is not an hf: source`, {
      fix: "write it as hf:owner/name or hf:owner/name@revision",
    });
  }
  const body = source.slice(HF_SCHEME.length).replace(/^\/\//, "");
  const at = body.indexOf("@");
  const repo = checkRepoId(at < 0 ? body : body.slice(0, at));
  return at < 0 ? { repo } : { repo, revision: checkRevision(body.slice(at + 1)) };
}
