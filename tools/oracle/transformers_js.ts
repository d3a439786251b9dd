/**
 * External oracle: runs transformers.js (the Hugging Face JavaScript
 * reference) on a model folder and prints greedy token ids as JSON.
 *
 *   deno run -A tools/oracle/transformers_js.ts --model DIR --inputs DUMP_DIR \
 *     [--dtype fp32|fp16|int8|uint8|q4|q4f16|bnb4] [--max-new-tokens N] [--ignore-eos] [--image PATH --prompt TEXT]
 *
 * `--inputs` is a folder written by `vlm run --dump-inputs`: the oracle is fed
 * exactly the tensors vlmkit fed its own sessions. With `--image` and
 * `--prompt`, it also runs transformers.js's own processor and prints the
 * input ids it builds (`processorInputIds`), for prompt-expansion parity.
 * Prints `{tokenIds, processorInputIds?, version}`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  AutoModelForVision2Seq,
  AutoProcessor,
  env,
  RawImage,
  Tensor,
} from "@huggingface/transformers";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string" },
    inputs: { type: "string" },
    "max-new-tokens": { type: "string", default: "32" },
    "ignore-eos": { type: "boolean", default: false },
    image: { type: "string" },
    prompt: { type: "string" },
    dtype: { type: "string", default: "fp32" },
  },
});
if (!values.model || !values.inputs) {
  console.error(
    "usage: transformers_js.ts --model DIR --inputs DUMP_DIR [--dtype fp32|fp16|int8|uint8|q4|q4f16|bnb4] [...]",
  );
  Deno.exit(2);
}

const modelDir = await Deno.realPath(values.model);
env.allowRemoteModels = false;
// transformers.js resolves model ids below localModelPath.
const slash = modelDir.lastIndexOf("/");
env.localModelPath = modelDir.slice(0, slash + 1);
const id = modelDir.slice(slash + 1);
const model = await AutoModelForVision2Seq.from_pretrained(id, {
  // transformers.js maps every dtype to the same file suffixes as the builder.
  dtype: values.dtype as "fp32" | "fp16" | "int8" | "uint8" | "q4" | "q4f16" | "bnb4",
  device: "cpu",
  local_files_only: true,
});

const dir = values.inputs;
const shapes = JSON.parse(await Deno.readTextFile(`${dir}/shapes.json`));
const ids = new BigInt64Array((await Deno.readFile(`${dir}/input_ids.bin`)).slice().buffer);
const pixels = new Float32Array((await Deno.readFile(`${dir}/pixel_values.bin`)).slice().buffer);
const mask = Array.from(await Deno.readFile(`${dir}/pixel_attention_mask.bin`), (v) => v !== 0);
const output = await model.generate({
  input_ids: new Tensor("int64", ids, [1, ids.length]),
  attention_mask: new Tensor("int64", new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
  pixel_values: new Tensor("float32", pixels, shapes.pixel_values),
  pixel_attention_mask: new Tensor("bool", mask, shapes.pixel_attention_mask),
  max_new_tokens: Number(values["max-new-tokens"]),
  do_sample: false,
  // A null eos_token_id makes transformers.js skip its EOS stopping criterion.
  ...(values["ignore-eos"] ? { eos_token_id: null as unknown as number[] } : {}),
});
const all = Array.from((output as Tensor).data as BigInt64Array, Number);
const result: Record<string, unknown> = { tokenIds: all.slice(ids.length) };

if (values.image && values.prompt !== undefined) {
  const processor = await AutoProcessor.from_pretrained(id, { local_files_only: true });
  const text = processor.apply_chat_template(
    [{ role: "user", content: [{ type: "image" }, { type: "text", text: values.prompt }] }],
    { add_generation_prompt: true },
  );
  const image = await RawImage.read(await Deno.realPath(values.image));
  const inputs = await processor(text, [image]);
  result.processorInputIds = Array.from(inputs.input_ids.data as BigInt64Array, Number);
}
console.log(JSON.stringify(result));
