/**
 * Fuzz: the OpenAI chat request parser (`parseChatRequest`) over mutated real
 * request bodies: a parsed request or a typed error, within the time limit.
 */
import fc from "fast-check";
import { parseChatRequest } from "../../src/server/openai_chat.ts";
import { byteSize, expectClean, FUZZ_RUNS, FUZZ_SEED, FuzzClassifier } from "./_classify.ts";
import { mutatedJsonText, mutatedValue } from "./_mutate.ts";

const PNG =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==";
const SEEDS: unknown[] = [
  { model: "tiny", messages: [{ role: "user", content: "Describe the image." }], max_tokens: 12 },
  {
    model: "tiny",
    messages: [
      { role: "system", content: "Be brief." },
      {
        role: "user",
        content: [{ type: "image_url", image_url: { url: PNG } }, { type: "text", text: "What?" }],
      },
    ],
    max_tokens: 32,
    temperature: 0.7,
    top_p: 0.9,
    seed: 7,
    stop: ["\n"],
    stream: true,
    logit_bias: { "42": -100 },
  },
];

Deno.test(`fuzz: OpenAI chat request parser (${FUZZ_RUNS} cases)`, () => {
  const classifier = new FuzzClassifier("openai request");
  const body = fc.oneof(
    mutatedValue(SEEDS),
    mutatedJsonText(SEEDS).map((text): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        return text; // the handler refuses non-JSON before the parser; a string is hostile too
      }
    }),
  );
  fc.assert(
    fc.property(body, (input) => {
      const bytes = typeof input === "string" ? byteSize(input) : 1024;
      expectClean(classifier.run(bytes, () => parseChatRequest(input)), classifier);
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
  classifier.report();
});
