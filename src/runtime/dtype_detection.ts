/**
 * Which dtype a model folder holds, from the ONNX files present. Published
 * repos carry several forms side by side (`decoder_model_merged.onnx`,
 * `decoder_model_merged_int8.onnx`, …), a built folder usually one.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { DTYPE_SUFFIX } from "../spec/resolve.ts";
import type { Dtype } from "../spec/types.ts";

/**
 * The order in which a folder's complete forms are preferred when no dtype
 * is given: the most precise first (so a published repo with every form
 * loads fp32, as it did before detection), then the 8-bit forms (which run on
 * both backends), then the 4-bit ones.
 */
export const DTYPE_PREFERENCE: readonly Dtype[] = [
  "fp32",
  "fp16",
  "int8",
  "uint8",
  "q8",
  "q4",
  "q4f16",
  "bnb4",
];

/** The file of `module`'s base path in `dtype`. */
export function dtypeFile(base: string, dtype: Dtype): string {
  return `${base}${DTYPE_SUFFIX[dtype]}.onnx`;
}

/** The dtypes in which every module has a file, in {@linkcode DTYPE_PREFERENCE} order. */
export function completeDtypes(
  modules: Readonly<Record<string, string>>,
  present: ReadonlySet<string>,
): Dtype[] {
  const bases = Object.values(modules);
  return DTYPE_PREFERENCE.filter((dtype) => bases.every((b) => present.has(dtypeFile(b, dtype))));
}

/**
 * Picks the dtype of a folder whose module files (base paths, no suffix) are
 * `modules` and whose existing files include `present`: the first complete
 * form in {@linkcode DTYPE_PREFERENCE}. No complete form is a `model_invalid`
 * error listing what each module has.
 */
export function pickDtype(
  modules: Readonly<Record<string, string>>,
  present: ReadonlySet<string>,
  location: string,
): Dtype {
  const complete = completeDtypes(modules, present);
  if (complete.length > 0) return complete[0];
  const found = Object.entries(modules).map(([module, base]) => {
    const forms = DTYPE_PREFERENCE.filter((d) => present.has(dtypeFile(base, d)));
    return `${module}: ${forms.length > 0 ? forms.join(", ") : "none"}`;
  });
  const partial = DTYPE_PREFERENCE.filter((d) =>
    Object.values(modules).some((b) => present.has(dtypeFile(b, d)))
  );
  throw new VlmError(
    "model_invalid",
    `${location} has no dtype with a file for every module (${found.join("; ")})`,
    {
      fix: partial.length > 0
        ? "download the missing module files, or give loadModel a dtype per module " +
          `(e.g. { dtype: { ${Object.keys(modules)[0]}: "${partial[0]}", … } })`
        : `add the ONNX files (${Object.values(modules).map((b) => `${b}.onnx`).join(", ")})`,
    },
  );
}

/**
 * Probes `has` for every module file in every dtype and picks one with
 * {@linkcode pickDtype}.
 */
export async function detectDtype(
  modules: Readonly<Record<string, string>>,
  has: (path: string) => Promise<boolean>,
  location: string,
): Promise<Dtype> {
  const candidates = Object.values(modules).flatMap((base) =>
    DTYPE_PREFERENCE.map((dtype) => dtypeFile(base, dtype))
  );
  const found = await Promise.all(candidates.map(async (path) => [path, await has(path)] as const));
  return pickDtype(
    modules,
    new Set(found.filter(([, exists]) => exists).map(([path]) => path)),
    location,
  );
}
