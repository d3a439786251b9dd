/**
 * Fuzz: the Hub listing reader (`repoFileFromEntry`, over every entry of a
 * mutated listing) and the cached snapshot record reader
 * (`readSnapshotRecord`, over mutated record files). Seeds: the listing the
 * test hub serves for the stand-in repo and the record a pull writes of it.
 * Every case ends in files or a typed error, within the time limit.
 */
import fc from "fast-check";
import { join } from "node:path";
import { RepoCache } from "../../src/hub/cache_layout.ts";
import { repoFileFromEntry } from "../../src/hub/listing.ts";
import { readSnapshotRecord } from "../../src/hub/snapshot_record.ts";
import { listing } from "../hub/_hub_server.ts";
import { standInRepo } from "../hub/_repos.ts";
import { byteSize, expectClean, FUZZ_RUNS, FUZZ_SEED, FuzzClassifier } from "./_classify.ts";
import { mutatedJsonText, mutatedValue } from "./_mutate.ts";

const REPO = "acme/smol";
const COMMIT = "c".repeat(40);
const ENTRIES = listing(standInRepo());
const RECORD = {
  format: "vlmkit-hub-snapshot",
  version: 1,
  repo: REPO,
  commit: COMMIT,
  files: ENTRIES.filter((e) => e.type === "file").map((e) => {
    const lfs = e.lfs as { oid: string } | undefined;
    return { path: e.path, size: e.size, ...(lfs ? { sha256: lfs.oid } : { gitOid: e.oid }) };
  }),
};

Deno.test(`fuzz: Hub listing entries (${FUZZ_RUNS} cases)`, () => {
  const classifier = new FuzzClassifier("hub listing");
  fc.assert(
    fc.property(mutatedValue([ENTRIES]), (entries) => {
      expectClean(
        classifier.run(1024, () => {
          if (!Array.isArray(entries)) return;
          for (const entry of entries) repoFileFromEntry(REPO, entry);
        }),
        classifier,
      );
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
  classifier.report();
});

Deno.test(`fuzz: Hub snapshot records (${FUZZ_RUNS} cases)`, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cache = new RepoCache(dir, REPO);
    await Deno.mkdir(join(cache.root, "manifests"), { recursive: true });
    const classifier = new FuzzClassifier("hub snapshot record");
    const record = fc.oneof(
      mutatedJsonText([RECORD]),
      mutatedValue([RECORD]).map((value) => {
        try {
          return JSON.stringify(value) ?? "null";
        } catch {
          return "[]"; // too deep to write: the cache can hold any text
        }
      }),
    );
    await fc.assert(
      fc.asyncProperty(record, async (text) => {
        await Deno.writeTextFile(cache.manifestPath(COMMIT), text);
        expectClean(
          await classifier.runAsync(byteSize(text), () => readSnapshotRecord(cache, REPO, COMMIT)),
          classifier,
        );
      }),
      { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
    );
    classifier.report();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
