/**
 * Typed errors raised by vlmkit.
 *
 * @module
 */
export {
  VlmError,
  type VlmErrorCode,
  type VlmErrorJson,
  type VlmErrorOptions,
} from "./vlm_error.ts";
export { type VlmIssue } from "./issue.ts";
export { type SpecIssue, SpecValidationError } from "./spec_error.ts";
export { UsageError } from "./usage_error.ts";
