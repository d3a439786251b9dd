/**
 * The preprocessing profile's figures and their table, apart from the
 * measuring script (which loads transformers.js) so the bench can print them.
 *
 * @module
 */

/** Median milliseconds per stage, keyed by stage name, and the load average around them. */
export interface PreprocessProfile {
  /** Timed rounds per figure. */
  runs: number;
  /** `Deno.loadavg()` (1, 5, 15 minutes) after the last round. */
  loadAverage: number[];
  /** Stage name → median ms. */
  medianMs: Record<string, number>;
}

/** The stage names, in the order they are printed. */
export const STAGES = {
  resizeWasm: "resize 640×480 → 2048×1536 lanczos: vlmkit wasm",
  resizeTs: "resize 640×480 → 2048×1536 lanczos: vlmkit TypeScript",
  resizeSharp: "resize 640×480 → 2048×1536 lanczos: transformers.js (sharp)",
  decode: "photo: vlmkit JPEG decode",
  resize: "photo: vlmkit resize 4000×3000 → 2048×1536",
  crop: "photo: vlmkit crop 12 tiles",
  global: "photo: vlmkit global image 2048×1536 → 512²",
  pack: "photo: vlmkit normalise + pack [13,3,512,512]",
  total: "photo: vlmkit total (wasm resampler)",
  totalTs: "photo: vlmkit total (TypeScript resampler)",
  theirDecode: "photo: transformers.js decode (RawImage.read)",
  theirResize: "photo: transformers.js resize to 2048×1536",
  theirProcessor: "photo: transformers.js processor (resize → pack)",
  theirTotal: "photo: transformers.js total",
} as const;

/** The profile as a table (stderr in the bench). */
export function formatProfile(profile: PreprocessProfile): string {
  const lines = [
    `preprocessing, medians of ${profile.runs} (load average ${
      profile.loadAverage.map((v) => v.toFixed(2)).join(" ")
    })`,
  ];
  for (const [name, ms] of Object.entries(profile.medianMs)) {
    lines.push(`  ${name.padEnd(62)} ${ms.toFixed(1).padStart(8)} ms`);
  }
  const m = profile.medianMs;
  lines.push(
    `  photo total, transformers.js / vlmkit: ${
      (m[STAGES.theirTotal] / m[STAGES.total]).toFixed(2)
    }×` +
      ` (TypeScript resampler: ${(m[STAGES.theirTotal] / m[STAGES.totalTs]).toFixed(2)}×)`,
  );
  return lines.join("\n");
}
