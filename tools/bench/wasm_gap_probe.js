// vlmkit's decode under Deno, measured by the same code as in the wasm-anchor page
// (wllama/page/decode_probe.js, copied next to this file with the bundle). Plain JavaScript, run
// in a bare `deno run --no-config` with read permission on the model (and the bundle's folder):
//
//   deno run --no-config --allow-read=MODEL,DIR wasm_gap_probe.js '{"bundle": "./vlmkit.edge.js",
//     "model": MODEL, "dtype": "fp32", "prompt": 512, "tokens": 128, "runs": 1}'
//
// Prints one JSON line.
import { measureDecode } from "./decode_probe.js";

const { bundle = "./vlmkit.edge.js", model, ...options } = JSON.parse(
  Deno.args[0],
);
const vlm = await import(bundle);
console.log(JSON.stringify(await measureDecode(vlm.loadModel, model, options)));
