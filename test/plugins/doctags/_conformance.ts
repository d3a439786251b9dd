/**
 * Access to the DocTags conformance vectors (`test/fixtures/conformance/doctags/`,
 * copied into the repository): inputs, docling-core's outputs, and the manifest.
 *
 * @module
 */

/** Where the vectors live. */
export const CONFORMANCE_ROOT = new URL("../../fixtures/conformance/doctags/", import.meta.url);

/** One case of the manifest. */
export interface ConformanceCase {
  id: string;
  folder: "upstream" | "edge";
  input: string;
  mode: "single" | "multipage";
  expected: string[];
  notes: string;
}

/** The manifest's cases (the vectors are part of the repository: a missing file fails loudly). */
export const CASES: ConformanceCase[] = JSON.parse(
  Deno.readTextFileSync(new URL("manifest.json", CONFORMANCE_ROOT)),
).cases;

/** The case's DocTags input, verbatim. */
export function input(c: ConformanceCase): string {
  return Deno.readTextFileSync(new URL(c.input, CONFORMANCE_ROOT));
}

/**
 * An expected output (`md`, `paged.md`, `html`, `json`, `error.txt` → the
 * `-error` file), without the one trailing newline every file carries, or
 * `undefined` when the case has none.
 */
export function expected(
  c: ConformanceCase,
  kind: "md" | "paged.md" | "html" | "json" | "error",
): string | undefined {
  const name = kind === "error" ? `${c.id}.expected-error.txt` : `${c.id}.expected.${kind}`;
  try {
    return Deno.readTextFileSync(new URL(`${c.folder}/${name}`, CONFORMANCE_ROOT)).replace(
      /\n$/,
      "",
    );
  } catch {
    return undefined;
  }
}

/** The page mode the reference used for the case. */
export function pagesMode(c: ConformanceCase): "single" | "split" {
  return c.mode === "multipage" ? "split" : "single";
}
