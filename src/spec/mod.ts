/**
 * Variant specs: types, schema, validation and `resolve()`.
 *
 * @module
 */
export type * from "./types.ts";
export type { ModuleParams, ParamCounts, Plan, PlannedFile } from "./plan.ts";
export { checkCrossFieldRules, LAYOUT_MODULES } from "./rules.ts";
export { parseSpec, type SpecValidation, validateSpec } from "./validate.ts";
export { DTYPE_SUFFIX, resolve } from "./resolve.ts";
