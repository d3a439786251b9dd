// The wasm-anchor page: vlmkit's browser bundle (onnxruntime-web) and wllama (llama.cpp compiled
// to WebAssembly) on the same seeded decoder, in one page, driven by tools/bench/wllama/driver.ts
// through `globalThis.anchor`.
//
// wllama 3 takes prompts as text only (its completion request stores the prompt in a string), so
// vlmkit's prompt ids are written back as text: special tokens by their text (llama.cpp parses
// them as control tokens), every other id is one byte symbol of the byte-level vocabulary without
// merges, which llama.cpp's BPE maps back to the same id. The page checks the token count.
import { loadModel } from "./vlmkit.browser.js";
import { Wllama } from "./wllama/index.js";
import { measureDecode } from "./decode_probe.js";
import { wasmBandwidth } from "./bandwidth_probe.js";
import { timeMatmul } from "./matmul_probe.js";
import { copyOutStep } from "./copy_out_probe.js";

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** GPT-2's byte-level alphabet (src/text/byte_symbols.ts): byte value by stand-in character. */
function byteOfSymbol() {
  const printable = (b) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) ||
    (b >= 0xae && b <= 0xff);
  const map = new Map();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    map.set(String.fromCharCode(printable(b) ? b : 256 + extra++), b);
  }
  return map;
}

/** The text whose llama.cpp tokens are `ids`, from the model folder's tokenizer.json. */
async function textOfIds(modelUrl, ids) {
  const json = await (await fetch(
    new URL("tokenizer.json", new URL(modelUrl, location.href)),
  ))
    .json();
  const special = new Map(json.added_tokens.map((t) => [t.id, t.content]));
  const symbol = new Map(
    Object.entries(json.model.vocab).map(([text, id]) => [id, text]),
  );
  const bytes = byteOfSymbol();
  const parts = [];
  let run = [];
  const flush = () => {
    parts.push(
      new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(run)),
    );
    run = [];
  };
  for (const id of ids) {
    if (special.has(id)) {
      flush();
      parts.push(special.get(id));
    } else if (bytes.has(symbol.get(id))) run.push(bytes.get(symbol.get(id)));
    else {throw new Error(
        `prompt id ${id} is neither a special token nor a byte symbol`,
      );}
  }
  flush();
  return parts.join("");
}

/** A fresh wllama instance with the GGUF file at `url` loaded, CPU only. */
async function loadWllama(url, { threads, context }) {
  const wllama = new Wllama({ default: "./wllama/wasm/wllama.wasm" }, {
    suppressNativeLog: true,
  });
  const blob = await (await fetch(url)).blob();
  const started = performance.now();
  await wllama.loadModel([blob], {
    n_threads: threads,
    n_ctx: context,
    n_batch: 512,
    n_ubatch: 512,
    n_parallel: 1,
    n_gpu_layers: 0,
  });
  return {
    wllama,
    loadMs: performance.now() - started,
    // What wllama chose: it falls back to one thread without SharedArrayBuffer.
    threads: wllama.useMultiThread ? wllama.nbThreads : 1,
  };
}

/**
 * One greedy completion of `text` (which must be `promptTokens` tokens) with llama.cpp's own
 * timings; the generated ids come from the per-token log-probabilities.
 */
async function wllamaComplete(wllama, text, promptTokens, tokens) {
  const started = performance.now();
  const response = await wllama.createCompletion({
    prompt: text,
    max_tokens: tokens,
    temperature: 0,
    top_k: 1,
    ignore_eos: true,
    cache_prompt: false,
    logprobs: 1,
    n_probs: 1,
  });
  const wallMs = performance.now() - started;
  const t = response.timings;
  if (t.prompt_n !== promptTokens) {
    throw new Error(
      `wllama read ${t.prompt_n} prompt tokens, vlmkit's prompt has ${promptTokens}`,
    );
  }
  return {
    ids: response.choices[0].logprobs.content.map((c) => c.id),
    prefillTokensPerSec: t.prompt_n / (t.prompt_ms / 1000),
    // llama.cpp's generation clock starts at the first new token, as vlmkit's decode figure does.
    decodeTokensPerSec: (t.predicted_n - 1) / (t.predicted_ms / 1000),
    decoded: t.predicted_n,
    wallMs,
  };
}

async function loadVlmkit(url, { threads, dtype }) {
  const started = performance.now();
  const model = await loadModel(new URL(url, location.href), {
    backend: "wasm",
    threads,
    dtype,
  });
  return { model, loadMs: performance.now() - started };
}

async function vlmkitGenerate(model, text, tokens) {
  await model.clearCaches();
  const r = await model.generate({
    prompt: text,
    maxNewTokens: tokens,
    stopTokenIds: [],
  });
  return {
    ids: r.tokenIds,
    promptTokens: r.promptTokens,
    prefillTokensPerSec: r.promptTokens / (r.timings.prefillMs / 1000),
    decodeTokensPerSec: r.timings.decodeTokensPerSec,
    decoded: r.tokenIds.length,
  };
}

/** vlmkit's prompt of exactly `target` tokens (the chat template adds a fixed number). */
async function calibrate(model, target) {
  const words = (n) => Array.from({ length: n }, (_, i) => "abcdefgh"[i % 8]).join("");
  const probe = await model.prepareInputs({ prompt: words(target) });
  const text = words(target - (probe.inputIds.length - target));
  const { inputIds } = await model.prepareInputs({ prompt: text });
  if (inputIds.length !== target) {
    throw new Error(`the prompt has ${inputIds.length} tokens, not ${target}`);
  }
  return { text, ids: [...inputIds] };
}

const figures = (rs, loadMs) => ({
  loadMs,
  prefillTokensPerSec: median(rs.map((r) => r.prefillTokensPerSec)),
  decodeTokensPerSec: median(rs.map((r) => r.decodeTokensPerSec)),
  decodedTokens: rs[0].decoded,
});

/**
 * Both engines in this page on `threads` threads: vlmkit on the folder at `model` (`dtype`),
 * wllama on the GGUF file at `gguf`; a `prompt`-token prompt, `tokens` greedy tokens, one
 * warm-up each, then `runs` runs alternating between the engines; medians. Also returns the
 * prompt as wllama reads it.
 */
async function measure({ model, dtype, gguf, threads, prompt, tokens, runs }) {
  const ours = await loadVlmkit(model, { threads, dtype });
  const { text, ids } = await calibrate(ours.model, prompt);
  const theirs = await loadWllama(gguf, {
    threads,
    context: prompt + tokens + 16,
  });
  const llamaText = await textOfIds(model, ids);
  await vlmkitGenerate(ours.model, text, 4);
  await wllamaComplete(theirs.wllama, llamaText, ids.length, 4);
  const a = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    a.push(await vlmkitGenerate(ours.model, text, tokens));
    b.push(await wllamaComplete(theirs.wllama, llamaText, ids.length, tokens));
  }
  await ours.model.dispose();
  await theirs.wllama.exit();
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    promptTokens: ids.length,
    llamaText,
    vlmkit: { threads, ...figures(a, ours.loadMs) },
    wllama: { threads: theirs.threads, ...figures(b, theirs.loadMs) },
  };
}

/** Greedy ids of both engines for `prompt` (text), one thread, for the agreement test. */
async function greedy({ model, gguf, prompt, tokens }) {
  const ours = await loadVlmkit(model, { threads: 1, dtype: "fp32" });
  const { inputIds } = await ours.model.prepareInputs({ prompt });
  const mine = await vlmkitGenerate(ours.model, prompt, tokens);
  await ours.model.dispose();
  const theirs = await loadWllama(gguf, {
    threads: 1,
    context: inputIds.length + tokens + 16,
  });
  const text = await textOfIds(model, inputIds);
  const other = await wllamaComplete(
    theirs.wllama,
    text,
    inputIds.length,
    tokens,
  );
  await theirs.wllama.exit();
  return { promptIds: [...inputIds], vlmkit: mine.ids, wllama: other.ids };
}

/**
 * vlmkit's decode alone (tools/bench/wasm_gap.ts): `bundle` is the module to load vlmkit from
 * (default this page's browser bundle; the edge bundle may be served too), the other arguments
 * are `measureDecode`'s.
 */
async function decode({ bundle, model, ...options }) {
  const vlm = bundle ? await import(bundle) : { loadModel };
  return await measureDecode(
    vlm.loadModel,
    new URL(model, location.href),
    options,
  );
}

/** `timeMatmul` on onnxruntime-web imported from `ort` (its wasm build), on the model at `model`. */
async function matmul({ ort, model, ...options }) {
  const api = await import(ort);
  const bytes = new Uint8Array(await (await fetch(model)).arrayBuffer());
  return await timeMatmul(api, bytes, options);
}

globalThis.anchor = {
  measure,
  greedy,
  decode,
  bandwidth: wasmBandwidth,
  matmul,
  copyOut: copyOutStep,
};
