// vlmkit decode measured the same way in any host: the wasm-anchor page (Chromium) and
// tools/bench/wasm_gap_probe.js (Deno, edge bundle) both call `measureDecode` with the bundle's
// `loadModel`, so that prompt, token count, warm-up and clock are identical on both sides.

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** A prompt of exactly `target` tokens for `model` (the chat template adds a fixed number). */
export async function calibratePrompt(model, target) {
  const words = (n) =>
    Array.from({ length: Math.max(n, 1) }, (_, i) => "abcdefgh"[i % 8]).join(
      "",
    );
  const probe = await model.prepareInputs({ prompt: words(target) });
  const text = words(target - (probe.inputIds.length - target));
  const { inputIds } = await model.prepareInputs({ prompt: text });
  if (inputIds.length !== target) {
    throw new Error(`the prompt has ${inputIds.length} tokens, not ${target}`);
  }
  return { text, ids: [...inputIds] };
}

/** One greedy generation of `tokens` tokens; per-step wall times from the token callback. */
async function generateOnce(model, text, tokens) {
  await model.clearCaches();
  const stamps = [];
  const r = await model.generate({
    prompt: text,
    maxNewTokens: tokens,
    stopTokenIds: [],
    onToken: () => stamps.push(performance.now()),
  });
  const steps = stamps.slice(1).map((t, i) => t - stamps[i]);
  return {
    ids: r.tokenIds,
    prefillMs: r.timings.prefillMs,
    decodeTokensPerSec: r.timings.decodeTokensPerSec,
    steps,
  };
}

/**
 * Loads the model at `source` with `loadModel` (wasm backend), builds a `prompt`-token prompt,
 * runs one short warm-up (`warmup` tokens) and then `runs` greedy generations of `tokens`
 * tokens; returns medians and the median step time of the first and last eighth of the steps
 * (how a step's cost grows with the context).
 */
export async function measureDecode(loadModel, source, options) {
  const {
    dtype,
    threads = 1,
    prompt,
    tokens,
    runs = 1,
    warmup = 4,
    embedding,
    kvCache,
  } = options;
  const started = performance.now();
  const model = await loadModel(source, {
    backend: "wasm",
    threads,
    dtype,
    ...(embedding ? { embedding } : {}),
    ...(kvCache ? { kvCache } : {}),
  });
  const loadMs = performance.now() - started;
  const { text, ids } = await calibratePrompt(model, prompt);
  if (warmup > 0) await generateOnce(model, text, warmup);
  const all = [];
  for (let i = 0; i < runs; i++) {
    all.push(await generateOnce(model, text, tokens));
  }
  await model.dispose();
  const eighth = (r, last) => {
    const n = Math.max(1, r.steps.length >> 3);
    return median(last ? r.steps.slice(-n) : r.steps.slice(0, n));
  };
  return {
    promptTokens: ids.length,
    decodedTokens: all[0].ids.length,
    loadMs,
    prefillMs: median(all.map((r) => r.prefillMs)),
    decodeTokensPerSec: median(all.map((r) => r.decodeTokensPerSec)),
    perRun: all.map((r) => r.decodeTokensPerSec),
    firstStepsMs: median(all.map((r) => eighth(r, false))),
    lastStepsMs: median(all.map((r) => eighth(r, true))),
    ids: all[0].ids,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    userAgent: globalThis.navigator?.userAgent ?? "",
  };
}
