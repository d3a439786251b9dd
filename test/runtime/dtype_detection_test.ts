// The dtype of a folder comes from the files it holds: the first complete form in the
// documented preference, or a typed error that lists what each module has.
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { VlmError } from "../../src/errors/vlm_error.ts";
import {
  completeDtypes,
  DTYPE_PREFERENCE,
  dtypeFile,
  pickDtype,
} from "../../src/runtime/dtype_detection.ts";
import { openModelFolder } from "../../src/runtime/model_folder.ts";
import { describeModelFolder } from "../../src/runtime/model_spec.ts";
import { synthesize } from "../../src/build/synthesize.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { getPreset } from "../../variants/mod.ts";

const MODULES = {
  vision_encoder: "onnx/vision_encoder",
  embed_tokens: "onnx/embed_tokens",
  decoder_model_merged: "onnx/decoder_model_merged",
};
const ALL_FILES = Object.values(MODULES).flatMap((b) =>
  DTYPE_PREFERENCE.map((d) => dtypeFile(b, d))
);

Deno.test("dtype detection: picks the first complete form, or names what each module has", () => {
  fc.assert(
    fc.property(fc.subarray(ALL_FILES), (files) => {
      const present = new Set(files);
      const complete = DTYPE_PREFERENCE.filter((d) =>
        Object.values(MODULES).every((b) => present.has(dtypeFile(b, d)))
      );
      assert.deepEqual(completeDtypes(MODULES, present), complete);
      if (complete.length > 0) {
        const picked = pickDtype(MODULES, present, "dir");
        assert.equal(picked, complete[0]);
        for (const base of Object.values(MODULES)) assert.ok(present.has(dtypeFile(base, picked)));
      } else {
        assert.throws(() => pickDtype(MODULES, present, "dir"), (error: unknown) => {
          assert.ok(error instanceof VlmError);
          assert.equal(error.code, "model_invalid");
          for (const module of Object.keys(MODULES)) {
            assert.match(error.message, new RegExp(module));
          }
          return true;
        });
      }
    }),
  );
});

Deno.test("dtype detection: an int8-only folder is int8; int8 and q4 together prefer int8", () => {
  const int8 = new Set(Object.values(MODULES).map((b) => dtypeFile(b, "int8")));
  assert.equal(pickDtype(MODULES, int8, "dir"), "int8");
  const both = new Set([...int8, ...Object.values(MODULES).map((b) => dtypeFile(b, "q4"))]);
  assert.equal(pickDtype(MODULES, both, "dir"), "int8");
  const partial = new Set([dtypeFile(MODULES.decoder_model_merged, "q4f16")]);
  assert.throws(
    () => pickDtype(MODULES, partial, "dir"),
    /decoder_model_merged: q4f16; .*vision_encoder: none|vision_encoder: none.*decoder_model_merged: q4f16/,
  );
});

async function withServer<T>(
  root: string,
  work: (url: string) => Promise<T>,
  head = true,
): Promise<T> {
  const methods: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    methods.push(req.method);
    if (req.method === "HEAD" && !head) return new Response(null, { status: 405 });
    const path = join(root, decodeURIComponent(new URL(req.url).pathname));
    try {
      const bytes = await Deno.readFile(path);
      return new Response(req.method === "HEAD" ? null : bytes);
    } catch {
      return new Response(null, { status: 404 });
    }
  });
  try {
    return await work(`http://127.0.0.1:${server.addr.port}/`);
  } finally {
    await server.shutdown();
    assert.ok(methods.includes("HEAD"), "detection over HTTP probes with HEAD");
  }
}

Deno.test("dtype detection: local and HTTP folders of one q4 form describe q4 without a dtype", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", dtype: "q4" });
    await writeFolderAtomically(join(dir, "model"), result.files, false);
    const local = await describeModelFolder(openModelFolder(join(dir, "model")));
    const dtypes = (spec: typeof local.spec) =>
      Object.values(spec.artifacts.modules).map((m) => m.dtype);
    assert.deepEqual(dtypes(local.spec), ["q4", "q4", "q4"]);
    for (const head of [true, false]) {
      // Servers that refuse HEAD (405) are asked for one byte instead.
      await withServer(join(dir, "model"), async (url) => {
        const remote = await describeModelFolder(openModelFolder(url));
        assert.deepEqual(dtypes(remote.spec), ["q4", "q4", "q4"]);
      }, head);
    }
    // An explicit dtype still wins, even one the folder lacks (loading then names the file).
    const asked = await describeModelFolder(openModelFolder(join(dir, "model")), {
      dtype: "fp32",
    });
    assert.deepEqual(dtypes(asked.spec), ["fp32", "fp32", "fp32"]);
    // Without any complete form: a typed error listing the forms found.
    await Deno.remove(join(dir, "model", "onnx", "embed_tokens_q4.onnx"));
    await assert.rejects(
      describeModelFolder(openModelFolder(join(dir, "model"))),
      (error: unknown) =>
        error instanceof VlmError && /embed_tokens: none/.test(error.message) &&
        /vision_encoder: q4/.test(error.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
