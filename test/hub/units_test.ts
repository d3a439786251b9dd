// The pure parts of the hub client: file selection, repo ids and hf: sources,
// content hashes, progress aggregation.
import assert from "node:assert/strict";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { contentHash } from "../../src/hub/content_hash.ts";
import { selectFiles } from "../../src/hub/file_selection.ts";
import { HubError } from "../../src/hub/hub_error.ts";
import type { RepoFile } from "../../src/hub/listing.ts";
import { ProgressTracker, type PullProgress } from "../../src/hub/progress.ts";
import { checkRepoId, parseHfSource } from "../../src/hub/repo_id.ts";

const listing = (paths: string[]): RepoFile[] => paths.map((path) => ({ path, size: 10 }));

const HF = listing([
  "config.json",
  "preprocessor_config.json",
  "tokenizer.json",
  "chat_template.json",
  "README.md",
  "onnx/model.onnx",
  "onnx/vision_encoder.onnx",
  "onnx/vision_encoder_fp16.onnx",
  "onnx/embed_tokens.onnx",
  "onnx/embed_tokens_fp16.onnx",
  "onnx/decoder_model_merged.onnx",
  "onnx/decoder_model_merged.onnx_data",
  "onnx/decoder_model_merged_fp16.onnx",
  "onnx/decoder_model_merged_fp16.onnx_data_1",
]);

const paths = (files: RepoFile[]) => files.map((file) => file.path);

Deno.test("selectFiles: configs that exist plus one ONNX file (and its _data) per module", () => {
  assert.deepEqual(paths(selectFiles(HF, undefined)), [
    "config.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "chat_template.json",
    "onnx/vision_encoder.onnx",
    "onnx/embed_tokens.onnx",
    "onnx/decoder_model_merged.onnx",
    "onnx/decoder_model_merged.onnx_data",
  ]);
  assert.deepEqual(paths(selectFiles(HF, "fp16")).filter((p) => p.startsWith("onnx/")), [
    "onnx/vision_encoder_fp16.onnx",
    "onnx/embed_tokens_fp16.onnx",
    "onnx/decoder_model_merged_fp16.onnx",
  ]);
  assert.deepEqual(
    paths(selectFiles(HF, { decoder_model_merged: "fp16" })).filter((p) => p.startsWith("onnx/")),
    ["onnx/vision_encoder.onnx", "onnx/embed_tokens.onnx", "onnx/decoder_model_merged_fp16.onnx"],
  );
});

Deno.test("selectFiles: without a dtype, a repo holding only int8 files pulls its int8 form", () => {
  const int8 = listing([
    "config.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "onnx/vision_encoder_int8.onnx",
    "onnx/embed_tokens_int8.onnx",
    "onnx/decoder_model_merged_int8.onnx",
    "onnx/decoder_model_merged_q4.onnx",
  ]);
  assert.deepEqual(paths(selectFiles(int8, undefined)).filter((p) => p.startsWith("onnx/")), [
    "onnx/vision_encoder_int8.onnx",
    "onnx/embed_tokens_int8.onnx",
    "onnx/decoder_model_merged_int8.onnx",
  ]);
});

Deno.test("selectFiles: wrong dtypes, unknown modules and non-model repos are typed errors", () => {
  const isInput = (error: unknown) => error instanceof VlmError && error.code === "input_invalid";
  assert.throws(() => selectFiles(HF, "q5" as "q4"), isInput);
  assert.throws(() => selectFiles(HF, { decoder: "fp16" }), isInput);
  assert.throws(
    () => selectFiles(HF, "q4"),
    (error: unknown) =>
      error instanceof HubError && error.reason === "incomplete_repo" &&
      /fp32, fp16/.test(error.fix ?? ""),
  );
  assert.throws(
    () => selectFiles(listing(["README.md", "onnx/model.onnx"]), undefined),
    (error: unknown) =>
      error instanceof HubError && /config\.json, preprocessor_config\.json/.test(error.message),
  );
});

Deno.test("repo ids and hf: sources", () => {
  assert.deepEqual(parseHfSource("hf:HuggingFaceTB/SmolVLM-256M-Instruct"), {
    repo: "HuggingFaceTB/SmolVLM-256M-Instruct",
  });
  assert.deepEqual(parseHfSource("hf:acme/smol@v1.0"), { repo: "acme/smol", revision: "v1.0" });
  assert.deepEqual(parseHfSource("hf://acme/smol@refs/pr/3"), {
    repo: "acme/smol",
    revision: "refs/pr/3",
  });
  assert.equal(checkRepoId("gpt2"), "gpt2");
  for (const bad of ["", "a/b/c", "../x", "a/..", "a--b/c", "-a/b", "a/b.", "a b/c", "a/b?x"]) {
    assert.throws(() => checkRepoId(bad), VlmError, bad);
  }
  for (const bad of ["acme/smol", "hf:acme/smol@", "hf:acme/smol@a/../b", "hf:acme/smol@x\\y"]) {
    assert.throws(() => parseHfSource(bad), VlmError, bad);
  }
});

Deno.test("contentHash: LFS sha256 and git blob ids, matching only the right bytes", () => {
  const hello = new TextEncoder().encode("hello\n");
  // `git hash-object` of "hello\n", and its sha256.
  const git = { path: "a", size: 6, gitOid: "ce013625030ba8dba906f756967f9e9ca394464a" };
  const lfs = {
    path: "b",
    size: 6,
    sha256: "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
  };
  for (const file of [git, lfs]) {
    const whole = contentHash(file);
    whole.update(hello.subarray(0, 2));
    whole.update(hello.subarray(2));
    assert.equal(whole.matches(), true, file.path);
    const wrong = contentHash(file);
    wrong.update(new TextEncoder().encode("hellO\n"));
    assert.equal(wrong.matches(), false, file.path);
  }
});

Deno.test("ProgressTracker: totals up front, never backwards, files counted once", () => {
  const events: PullProgress[] = [];
  const tracker = new ProgressTracker(
    [{ path: "a", size: 100 }, { path: "b", size: 50 }],
    (event) => events.push(event),
  );
  tracker.advance("a", 60);
  tracker.advance("a", 0); // a restarted download: no step back
  tracker.advance("a", 80);
  tracker.finish("a");
  tracker.finish("b");
  assert.deepEqual(events.map((e) => [e.file, e.fileBytes, e.bytes, e.filesDone]), [
    ["a", 60, 60, 0],
    ["a", 60, 60, 0],
    ["a", 80, 80, 0],
    ["a", 100, 100, 1],
    ["b", 50, 150, 2],
  ]);
  assert.ok(events.every((e) => e.total === 150 && e.fileCount === 2));
});
