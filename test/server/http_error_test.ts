// One error vocabulary over HTTP: every VlmError code has a status, anything thrown becomes a
// VlmError, and a request body with several bad fields is answered with all of them.
import assert from "node:assert/strict";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { HubError } from "../../src/hub/hub_error.ts";
import { HTTP_STATUS, responseForError, toVlmError } from "../../src/server/http_error.ts";
import { parseChatRequest } from "../../src/server/openai_chat.ts";

Deno.test("http errors: statuses per code, the client's faults 4xx, the server's 5xx", () => {
  for (const [code, status] of Object.entries(HTTP_STATUS)) {
    assert.ok(status >= 400 && status < 600, `${code}: ${status}`);
  }
  assert.equal(HTTP_STATUS.input_invalid, 400);
  assert.equal(HTTP_STATUS.queue_full, 503);
  assert.equal(HTTP_STATUS.queue_timeout, 503);
  assert.equal(HTTP_STATUS.model_mismatch, 500);
});

Deno.test("http errors: aborts, time limits, hub and unknown failures map onto VlmError codes", async () => {
  assert.equal(toVlmError(new DOMException("t", "TimeoutError")).code, "timeout");
  assert.equal(toVlmError(new DOMException("a", "AbortError")).code, "aborted");
  const unknown = toVlmError(new Error("secret detail"));
  assert.equal(unknown.code, "internal");
  assert.doesNotMatch(unknown.message, /secret/);
  const hub = new HubError("unreachable", "cannot reach the hub", { fix: "check the network" });
  assert.equal(toVlmError(hub), hub);
  const response = responseForError(hub);
  assert.equal(response.status, 502);
  assert.deepEqual(await response.json(), {
    error: {
      message: "cannot reach the hub",
      type: "server_error",
      param: null,
      code: "hub_error",
      fix: "check the network",
    },
  });
  const coded = new VlmError("image_too_large", "too many pixels", { fix: "pass maxPixels" });
  assert.equal(responseForError(coded).status, 413);
});

Deno.test("http errors: a chat body with several bad fields names every one", async () => {
  let caught: unknown;
  try {
    parseChatRequest({ messages: [], temperature: 5, top_p: 0, max_tokens: -2 });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof VlmError && caught.code === "input_invalid");
  assert.deepEqual(caught.issues.map((i) => i.path).sort(), [
    "max_tokens",
    "messages",
    "temperature",
    "top_p",
  ]);
  const body = await responseForError(caught).json();
  assert.equal(body.error.issues.length, 4);
  for (const field of ["messages", "temperature", "top_p", "max_tokens"]) {
    assert.match(body.error.message, new RegExp(`- ${field}:`));
  }
});
