/**
 * The I/O every module session must have, derived from the Plan. Each layout
 * (`src/families/`) owns its contracts; this asks the plan's layout.
 *
 * @module
 */
import { layoutOf } from "../families/registry.ts";
import type { ModuleContract } from "../families/types.ts";
import type { Plan } from "../spec/plan.ts";

export type { ModuleContract };

/** Contracts of every module of the plan's layout, by module name. */
export function moduleContracts(plan: Plan, cacheType: string): Record<string, ModuleContract> {
  return layoutOf(plan.spec).contracts(plan, cacheType);
}
