/**
 * `z`: zod at the version vlmkit pins, as `vlmkit/plugin` exports it, so a
 * plugin and vlmkit share one zod. `vlm plugin bundle` imports it as a
 * namespace, so a bundle holds only the parts of zod a plugin uses.
 *
 * @module
 */
import * as zod from "npm:zod@4.6.7";

/** zod 4.6.7 (`z.object`, `z.string`, ...), the same module vlmkit validates with. */
export const z: typeof zod = zod;

/** Types that go with {@linkcode z}. */
export declare namespace z {
  /** What a schema's `parse` returns, as zod's `z.infer<typeof Schema>`. */
  export type infer<T extends { parse(value: unknown): unknown }> = ReturnType<T["parse"]>;
  /** What a schema produces, as zod's `z.output<typeof Schema>` (the same as `infer`). */
  export type output<T extends { parse(value: unknown): unknown }> = ReturnType<T["parse"]>;
  /** What a schema accepts (before defaults and transforms), as zod's `z.input<typeof Schema>`. */
  export type input<T extends { _zod: { input: unknown } }> = T["_zod"]["input"];
}
