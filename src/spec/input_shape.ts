/**
 * A bound on the shape of untrusted spec input, checked before zod sees it.
 * A spec is a few levels deep and a few hundred values; an array nested
 * thousands deep (or a huge value) would otherwise cost zod, the error
 * messages and `String()` a deep recursion. The walk is iterative. A
 * `__proto__` key is refused here because zod's record copy would lose it.
 *
 * @module
 */
import type { SpecIssue } from "../errors/spec_error.ts";

/** Deepest object/array nesting a spec may have (real specs use 4). */
export const MAX_SPEC_DEPTH = 16;
/** Most values (objects, arrays, leaves) a spec may hold (real specs hold about 150). */
export const MAX_SPEC_VALUES = 20_000;

/** The issue for input too deep or too large to be a spec, or `undefined` when it is within bounds. */
export function specShapeIssue(input: unknown): SpecIssue | undefined {
  const stack: [unknown, number, string][] = [[input, 0, ""]];
  let values = 0;
  while (stack.length > 0) {
    const [value, depth, path] = stack.pop()!;
    if (++values > MAX_SPEC_VALUES) {
      return {
        path: "",
        message: `holds more than ${MAX_SPEC_VALUES} values; a variant spec has a few hundred`,
        fix: "pass a variant spec (see variants/*.json), not other data",
      };
    }
    if (typeof value !== "object" || value === null) continue;
    if (depth >= MAX_SPEC_DEPTH) {
      return {
        path,
        message: `nests deeper than ${MAX_SPEC_DEPTH} levels; a variant spec has 4`,
        fix: "pass a variant spec (see variants/*.json), not other data",
      };
    }
    // Own enumerable keys only: `__proto__`, `toString` and the like are plain data here.
    for (const key of Object.keys(value)) {
      if (key === "__proto__") {
        // zod copies records with plain assignment, which would drop this key unseen.
        return {
          path: path ? `${path}.${key}` : key,
          message: "is not a field of a variant spec",
          fix: "remove the '__proto__' key",
        };
      }
      const child = (value as Record<string, unknown>)[key];
      stack.push([child, depth + 1, path ? `${path}.${key}` : key]);
    }
  }
  return undefined;
}
