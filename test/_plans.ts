/** Shared helpers for tests: resolved plans of built-in presets. */
import { resolve } from "../src/spec/resolve.ts";
import type { Plan } from "../src/spec/plan.ts";
import type { VariantSpec } from "../src/spec/types.ts";
import { getPreset } from "../variants/mod.ts";

/** The resolved plan of a preset. */
export function presetPlan(name: string): Plan {
  return resolve(getPreset(name));
}

/** A deep copy of a preset's spec, for tests that mutate it. */
export function presetCopy(name: string): VariantSpec {
  return structuredClone(getPreset(name));
}
