// The tiny random-weight hf-idefics3 folders made by tools/reference/tiny_idefics3.py,
// and the inputs/outputs recorded from the PyTorch model they were exported from.
export const TINY_MODEL = new URL("../fixtures/tiny-idefics3/", import.meta.url);
export const TINY_MODEL_EXTERNAL = new URL("../fixtures/tiny-idefics3-external/", import.meta.url);

export interface ReferenceCase {
  name: string;
  inputIds: number[];
  pixelValues: Float32Array;
  tiles: number;
  prompt: string;
  greedyIds: number[];
}

export async function referenceCase(name: "split" | "single"): Promise<ReferenceCase> {
  const dir = new URL(`reference/${name}/`, TINY_MODEL);
  const read = (file: string) => Deno.readFile(new URL(file, dir));
  const ids = new BigInt64Array((await read("input_ids.bin")).slice().buffer);
  const pixels = new Float32Array((await read("pixel_values.bin")).slice().buffer);
  const shapes = JSON.parse(await Deno.readTextFile(new URL("shapes.json", dir)));
  const expected = JSON.parse(await Deno.readTextFile(new URL("expected.json", dir)));
  return {
    name,
    inputIds: Array.from(ids, Number),
    pixelValues: pixels,
    tiles: shapes.pixel_values[1],
    prompt: await Deno.readTextFile(new URL("prompt.txt", dir)),
    greedyIds: expected.greedy_ids,
  };
}
