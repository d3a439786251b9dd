/** `vlm inspect` folds per-layer tensor names; the fold stands for exactly the tensors it replaces. */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { TensorInfo } from "../../src/runtime/session_contract.ts";
import {
  foldTensors,
  groupName,
  groupSize,
  type TensorGroup,
} from "../../tools/cli/tensor_summary.ts";
import { runVlm } from "./_vlm.ts";

const SHIPPED = new URL("../../models/tiny-smolvlm/", import.meta.url).pathname;

/** Every tensor a group stands for, as `name type [dims]`. */
function expand(group: TensorGroup): string[] {
  let names = [""];
  group.segments.forEach((alternatives, i) => {
    names = names.flatMap((prefix) => alternatives.map((s) => i === 0 ? s : `${prefix}.${s}`));
  });
  return names.map((name) => `${name} ${group.type} [${group.dims.join(",")}]`);
}

const show = (t: TensorInfo) => `${t.name} ${t.type} [${t.dims.join(",")}]`;

function kvCache(prefix: string, layers: number, past: string): TensorInfo[] {
  return Array.from({ length: layers }, (_, i) =>
    ["key", "value"].map((kv) => ({
      name: `${prefix}.${i}.${kv}`,
      type: "float32",
      dims: ["batch", 3, past, 64],
    }))).flat();
}

Deno.test("foldTensors: a 30-layer cache becomes one line, other names stay as they are", () => {
  const tensors: TensorInfo[] = [
    { name: "inputs_embeds", type: "float32", dims: ["batch", "seq", 576] },
    { name: "attention_mask", type: "int64", dims: ["batch", "total"] },
    { name: "position_ids", type: "int64", dims: ["batch", "total"] },
    ...kvCache("past_key_values", 30, "past"),
  ];
  const groups = foldTensors(tensors);
  assert.deepEqual(groups.map(groupName), [
    "inputs_embeds",
    "attention_mask",
    "position_ids",
    "past_key_values.{0..29}.{key,value}",
  ]);
  assert.equal(groupSize(groups[3]), 60);
  assert.deepEqual(groups[3].dims, ["batch", 3, "past", 64]);
});

Deno.test("foldTensors: layers of another shape or type stay apart; gaps are listed", () => {
  const cache = kvCache("present", 4, "total");
  cache[5] = { ...cache[5], type: "float16" }; // present.2.value
  const groups = foldTensors(cache).map((g) => `${groupName(g)} ${g.type}`);
  assert.deepEqual(groups, [
    "present.{0,1,3}.{key,value} float32",
    "present.2.key float32",
    "present.2.value float16",
  ]);
  assert.deepEqual(
    foldTensors(kvCache("k", 5, "p").filter((t) => !t.name.startsWith("k.2."))).map(groupName),
    ["k.{0,1,3,4}.{key,value}"],
  );
});

Deno.test("foldTensors: the groups stand for exactly the input tensors (property)", () => {
  const tensor = fc.record({
    name: fc.stringMatching(/^[a-z_]{1,5}(\.([0-9]{1,2}|key|value|[a-z]{1,3})){0,3}$/),
    type: fc.constantFrom("float32", "float16", "int64"),
    dims: fc.constantFrom(["b", 2, "p", 32], ["b", 2, "t", 32], ["b", "s"]),
  });
  fc.assert(
    fc.property(fc.uniqueArray(tensor, { selector: (t) => t.name, maxLength: 40 }), (tensors) => {
      const groups = foldTensors(tensors);
      const expanded = groups.flatMap(expand);
      assert.deepEqual([...expanded].sort(), tensors.map(show).sort());
      assert.equal(groups.reduce((n, g) => n + groupSize(g), 0), tensors.length);
    }),
  );
});

Deno.test("cli: inspect prints the shipped decoder's cache as one line per direction", async () => {
  const { code, stdout, stderr } = await runVlm(["--allow-read", "--allow-env"], [
    "inspect",
    SHIPPED,
  ]);
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split("\n");
  assert.ok(
    lines.includes(
      "    in  past_key_values.{0..3}.{key,value} float32 [batch_size, 2, past_sequence_length, 32]",
    ),
    stdout,
  );
  assert.ok(
    lines.includes(
      "    out present.{0..3}.{key,value} float32 [batch_size, 2, total_sequence_length, 32]",
    ),
    stdout,
  );
  assert.ok(!stdout.includes("past_key_values.0.key"), stdout);
  assert.equal(lines.length, 16, stdout); // 30 before the fold
  // --json keeps every tensor.
  const json = await runVlm(["--allow-read", "--allow-env"], ["inspect", SHIPPED, "--json"]);
  const decoder = JSON.parse(json.stdout).sessions.find((s: { file: string }) =>
    s.file.endsWith("decoder_model_merged.onnx")
  );
  assert.equal(decoder.inputs.length, 3 + 8);
});
