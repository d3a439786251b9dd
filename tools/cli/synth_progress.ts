/**
 * The progress line of `vlm synth`: which module is being built or written,
 * k of n, and how many tensors so far. Drawn on stderr only when it is a
 * terminal (stdout, `--json` included, never carries it).
 *
 * @module
 */
import type { SynthesisProgress } from "../../src/build/synthesize.ts";

/** One line describing `progress`. */
export function formatSynthProgress(progress: SynthesisProgress): string {
  const { stage, module, index, total, tensors } = progress;
  return stage === "build"
    ? `synth: building ${module} (step ${index}/${total}, ${tensors} tensors so far)`
    : `synth: encoded ${module} (file ${index}/${total}, ${tensors} tensors)`;
}

/** A progress sink: a redrawn stderr line on a terminal, nothing otherwise. */
export function synthProgressReporter(
  terminal = Deno.stderr.isTerminal(),
): { report(progress: SynthesisProgress): void; end(): void } {
  const encoder = new TextEncoder();
  let drawn = false;
  return {
    report(progress) {
      if (!terminal) return;
      Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${formatSynthProgress(progress)}`));
      drawn = true;
    },
    end() {
      // Clear the line so the summary that follows starts clean.
      if (drawn) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    },
  };
}
