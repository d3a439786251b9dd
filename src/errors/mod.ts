/**
 * Typed errors raised by vlmkit.
 *
 * @module
 */
export { VlmError, type VlmErrorCode, type VlmErrorOptions } from "./vlm_error.ts";
export { type SpecIssue, SpecValidationError } from "./spec_error.ts";
export { UsageError } from "./usage_error.ts";
