/**
 * Fuzz: labels and predictions JSONL (`parseLabels`, `parsePredictions`) over
 * mutated real lines: the text mutated as text, and lines whose values are
 * replaced by hostile ones. Items or a typed error, within the time limit.
 */
import fc from "fast-check";
import { parseLabels, parsePredictions } from "../../src/eval/labels.ts";
import { byteSize, expectClean, FUZZ_RUNS, FUZZ_SEED, FuzzClassifier } from "./_classify.ts";
import { mutatedText, mutatedValue } from "./_mutate.ts";

const REAL = Deno.readTextFileSync(
  new URL("../fixtures/tiny-smolvlm-eval/torch_predictions.jsonl", import.meta.url),
);
const LINES: unknown[] = REAL.split("\n").filter((l) => l.trim()).slice(0, 20).map((l) =>
  JSON.parse(l)
);

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "undefined";
  } catch {
    return "{}"; // too deep for JSON.stringify: any text will do as a line
  }
}

Deno.test(`fuzz: labels JSONL (${FUZZ_RUNS} cases)`, () => {
  const labels = new FuzzClassifier("labels jsonl");
  const predictions = new FuzzClassifier("predictions jsonl");
  const text = fc.oneof(
    mutatedText([REAL], ['"', "{", "}", "\n", ",", ":", "null", '"image"', '"__proto__"']),
    fc.array(mutatedValue(LINES), { minLength: 1, maxLength: 5 }).map((values) =>
      values.map(safeStringify).join("\n")
    ),
  );
  fc.assert(
    fc.property(text, (jsonl) => {
      const bytes = byteSize(jsonl);
      expectClean(labels.run(bytes, () => parseLabels(jsonl, "labels.jsonl")), labels);
      expectClean(
        predictions.run(bytes, () => parsePredictions(jsonl, "predictions.jsonl")),
        predictions,
      );
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
  labels.report();
  predictions.report();
});
