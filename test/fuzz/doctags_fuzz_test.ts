/**
 * Fuzz: the DocTags reader (both modes) and every exporter over mutated
 * conformance inputs. Each case must end in a document (the reader never
 * throws on text) and each export in a string or a typed VlmError, within the
 * time limit. Seeded; `VLMKIT_FUZZ_RUNS` sets the number of cases.
 */
import fc from "fast-check";
import {
  type DocTagsDocument,
  parseDocTags,
  toDoclingJson,
  toHtml,
  toJson,
  toMarkdown,
} from "../../plugins/doctags/mod.ts";
import { byteSize, expectClean, FUZZ_RUNS, FUZZ_SEED, FuzzClassifier } from "./_classify.ts";
import { DOCTAGS_SEEDS, DOCTAGS_TOKENS } from "./_doctags_seeds.ts";
import { mutatedText } from "./_mutate.ts";

Deno.test(`fuzz: DocTags reader and exporters (${FUZZ_RUNS} cases)`, () => {
  const reader = new FuzzClassifier("doctags reader");
  const exporters: [FuzzClassifier, (doc: DocTagsDocument) => string][] = [
    [new FuzzClassifier("doctags markdown"), (doc) => toMarkdown(doc)],
    [new FuzzClassifier("doctags html"), (doc) => toHtml(doc)],
    [new FuzzClassifier("doctags docling json"), (doc) => JSON.parse(toDoclingJson(doc))],
    [new FuzzClassifier("doctags json"), (doc) => toJson(doc)],
  ];
  const arbitrary = fc.tuple(
    mutatedText(DOCTAGS_SEEDS, DOCTAGS_TOKENS, 2000),
    fc.constantFrom(undefined, "docling" as const),
    fc.option(fc.oneof(fc.integer({ min: -1, max: 6 }), fc.constant(false as const))),
  );
  fc.assert(
    fc.property(arbitrary, ([text, compat, repeats]) => {
      const bytes = byteSize(text);
      const collapseRepeats = repeats ?? undefined;
      let doc: DocTagsDocument | undefined;
      const outcome = reader.run(bytes, () => {
        doc = parseDocTags(text, { compat, collapseRepeats }).document;
      });
      expectClean(outcome, reader);
      // Only an option outside its values may be refused; any text must parse.
      const validOption = collapseRepeats === undefined || collapseRepeats === false ||
        collapseRepeats >= 2;
      if (!doc) {
        if (validOption) throw new Error("the reader threw on text; it must never throw");
        doc = parseDocTags(text, { compat }).document;
      }
      for (const [classifier, exporter] of exporters) {
        expectClean(classifier.run(bytes, () => exporter(doc!)), classifier);
      }
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
  reader.report();
  for (const [classifier] of exporters) classifier.report();
});
