// The demo page: loads a model folder over HTTP and streams answers, all in the browser.
import { loadModel } from "./vlmkit.browser.js";

const $ = (id) => document.getElementById(id);
const form = $("form");
const answer = $("answer");
const preview = $("preview");
const runButton = $("run");
const stopButton = $("stop");

const modelUrl = new URL(
  new URLSearchParams(location.search).get("model") ?? "../models/tiny-smolvlm/",
  location.href,
);
$("model-url").textContent = modelUrl.href;

let model;
let running;

/** Shows the page state: `loading`, `ready`, `running` or `error`. */
function setState(state, message) {
  document.body.dataset.state = state;
  runButton.disabled = state !== "ready";
  stopButton.disabled = state !== "running";
  if (message !== undefined) $("status").textContent = message;
}

function describeError(error) {
  const fix = error?.fix ? ` (${error.fix})` : "";
  return `${error?.message ?? error}${fix}`;
}

const ms = (value) => `${value.toFixed(0)} ms`;

$("image").addEventListener("change", () => {
  const file = $("image").files[0];
  if (preview.src) URL.revokeObjectURL(preview.src);
  if (file) preview.src = URL.createObjectURL(file);
  else preview.removeAttribute("src");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!model || running) return;
  const file = $("image").files[0];
  answer.textContent = "";
  delete answer.dataset.done;
  delete answer.dataset.error;
  for (const id of ["ttft-ms", "tokens-per-sec", "tokens"]) $(id).textContent = "–";
  running = new AbortController();
  setState("running", "Generating…");
  try {
    const stream = model.stream({
      prompt: $("prompt").value,
      images: file ? [file] : [],
      maxNewTokens: Number($("max-tokens").value) || 64,
      signal: running.signal,
    });
    for await (const delta of stream) answer.append(delta);
    const result = await stream.result;
    const { ttftMs, decodeTokensPerSec } = result.timings;
    $("ttft-ms").textContent = ms(ttftMs);
    $("tokens-per-sec").textContent = `${decodeTokensPerSec.toFixed(1)} tokens/s`;
    $("tokens").textContent = `${result.tokenIds.length} generated, ${result.promptTokens} ` +
      `in the prompt (${result.imageTokens} image)`;
    setState("ready", `Done (${result.finishReason.replace("_", " ")}).`);
  } catch (error) {
    if (running.signal.aborted) setState("ready", "Stopped.");
    else {
      answer.dataset.error = "";
      setState("ready", `Generation failed: ${describeError(error)}`);
    }
  } finally {
    running = undefined;
    answer.dataset.done = "";
  }
});

stopButton.addEventListener("click", () => running?.abort());

try {
  const started = performance.now();
  model = await loadModel(modelUrl);
  $("load-ms").textContent = ms(performance.now() - started);
  setState("ready", `Model ready: ${model.plan.spec.name}.`);
} catch (error) {
  setState("error", `Could not load the model: ${describeError(error)}`);
}
