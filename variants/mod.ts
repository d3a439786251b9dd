/**
 * Built-in variant presets. Each JSON file in this folder is a complete
 * {@linkcode VariantSpec}; they are imported statically so the registry works
 * on edge runtimes without file-system access.
 *
 * @module
 */
import { VlmError } from "../src/errors/vlm_error.ts";
import { parseSpec } from "../src/spec/validate.ts";
import type { VariantSpec } from "../src/spec/types.ts";
import { smolvlmPaperGrid } from "./smolvlm_paper_grid.ts";
import granite_docling_258m from "./granite-docling-258m.json" with { type: "json" };
import idefics3_8b from "./idefics3-8b.json" with { type: "json" };
import mobilevlm_1_7b from "./mobilevlm-1.7b.json" with { type: "json" };
import mobilevlm_3b from "./mobilevlm-3b.json" with { type: "json" };
import mobilevlm_v2_1_7b from "./mobilevlm-v2-1.7b.json" with { type: "json" };
import mobilevlm_v2_3b from "./mobilevlm-v2-3b.json" with { type: "json" };
import smoldocling_256m from "./smoldocling-256m.json" with { type: "json" };
import smolvlm_256m_instruct from "./smolvlm-256m-instruct.json" with { type: "json" };
import smolvlm_500m_instruct from "./smolvlm-500m-instruct.json" with { type: "json" };
import smolvlm_instruct from "./smolvlm-instruct.json" with { type: "json" };
import smolvlm2_256m_video from "./smolvlm2-256m-video.json" with { type: "json" };
import smolvlm2_500m_video from "./smolvlm2-500m-video.json" with { type: "json" };

/** The raw preset JSON, keyed by preset name. */
export const PRESET_JSON: Readonly<Record<string, unknown>> = {
  "smolvlm-256m-instruct": smolvlm_256m_instruct,
  "smolvlm-500m-instruct": smolvlm_500m_instruct,
  "smolvlm-instruct": smolvlm_instruct,
  "smolvlm2-256m-video": smolvlm2_256m_video,
  "smolvlm2-500m-video": smolvlm2_500m_video,
  "smoldocling-256m": smoldocling_256m,
  "granite-docling-258m": granite_docling_258m,
  "idefics3-8b": idefics3_8b,
  "mobilevlm-1.7b": mobilevlm_1_7b,
  "mobilevlm-3b": mobilevlm_3b,
  "mobilevlm-v2-1.7b": mobilevlm_v2_1_7b,
  "mobilevlm-v2-3b": mobilevlm_v2_3b,
};

/** The variant `deno task demo` and the docs use when none is named. */
export const DEFAULT_PRESET = "smolvlm-256m-instruct";

/** Names of the JSON presets, then the valid design-grid members. */
export function presetNames(): string[] {
  return [...Object.keys(PRESET_JSON), ...smolvlmPaperGrid().valid.map((spec) => spec.name)];
}

/** Levenshtein distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The validated spec of a preset (a JSON preset or a design-grid member).
 * Throws `VlmError("spec_not_found")` naming the closest presets.
 */
export function getPreset(name: string): VariantSpec {
  if (name in PRESET_JSON) return parseSpec(PRESET_JSON[name]);
  const member = smolvlmPaperGrid().valid.find((spec) => spec.name === name);
  if (member) return member;
  // Names that contain what was typed come first (shortest first), then the
  // closest by edit distance: "smolvlm-256" should suggest smolvlm-256m-instruct.
  const score = (candidate: string) =>
    candidate.includes(name)
      ? candidate.length - name.length - 1000
      : editDistance(name, candidate);
  const closest = presetNames().sort((a, b) => score(a) - score(b)).slice(0, 3);
  throw new VlmError("spec_not_found", `unknown preset "${name}"`, {
    fix: `did you mean ${closest.map((n) => `"${n}"`).join(", ")}? ` +
      "`deno task vlm validate --list` lists every preset; a path to a spec .json file works too",
  });
}
