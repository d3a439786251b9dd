/**
 * Fuzz: LaTeX → MathML over mutated formulas of the conformance inputs. The
 * converter returns MathML or `undefined` (unsupported LaTeX), never throws,
 * within the time limit. Seeded; `VLMKIT_FUZZ_RUNS` sets the number of cases.
 */
import fc from "fast-check";
import { latexToMathml } from "../../plugins/doctags/mod.ts";
import { byteSize, expectClean, FUZZ_RUNS, FUZZ_SEED, FuzzClassifier } from "./_classify.ts";
import { LATEX_SEEDS, LATEX_TOKENS } from "./_doctags_seeds.ts";
import { mutatedText } from "./_mutate.ts";

Deno.test(`fuzz: LaTeX to MathML (${FUZZ_RUNS} cases)`, () => {
  const classifier = new FuzzClassifier("mathml");
  const nested = fc.tuple(fc.integer({ min: 100, max: 6000 }), fc.constantFrom(...LATEX_TOKENS))
    .map(([n, open]) => open.repeat(n) + "x" + "}".repeat(n));
  const arbitrary = fc.tuple(
    fc.oneof({ weight: 9, arbitrary: mutatedText(LATEX_SEEDS, LATEX_TOKENS) }, {
      weight: 1,
      arbitrary: nested,
    }),
    fc.constantFrom("block" as const, "inline" as const),
  );
  fc.assert(
    fc.property(arbitrary, ([latex, display]) => {
      const outcome = classifier.run(byteSize(latex), () => {
        const mathml = latexToMathml(latex, display);
        if (mathml !== undefined && !mathml.startsWith("<math")) throw new Error("not MathML");
      });
      // latexToMathml is documented never to throw: a typed error is a failure too.
      if (outcome === "typed") throw new Error("latexToMathml threw");
      expectClean(outcome, classifier);
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
  classifier.report();
});
