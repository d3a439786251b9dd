import assert from "node:assert/strict";
import fc from "fast-check";
import {
  EventLoopPacer,
  yieldKind,
  type YieldScope,
  yieldToEventLoop,
} from "../../src/runtime/event_loop.ts";

Deno.test("browser pages and workers yield with a message, server runtimes with a timer", () => {
  const channel = MessageChannel;
  assert.equal(yieldKind({ document: {}, MessageChannel: channel }), "message");
  assert.equal(yieldKind({ WorkerGlobalScope: class {}, MessageChannel: channel }), "message");
  assert.equal(yieldKind({ Deno: {}, MessageChannel: channel }), "timer");
  assert.equal(
    yieldKind({ process: { versions: { node: "22.0.0" } }, MessageChannel: channel }),
    "timer",
  );
  // A browser-like scope without MessageChannel, and a bare isolate, keep the timer.
  assert.equal(yieldKind({ document: {} }), "timer");
  assert.equal(yieldKind({ MessageChannel: channel }), "timer");
  // This process is Deno.
  assert.equal(yieldKind(globalThis as YieldScope), "timer");
});

Deno.test("a scope with Deno or Node never yields with a message", () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
      (deno, document, worker, channel) => {
        const scope: YieldScope = {
          ...(deno ? { Deno: {} } : { process: { versions: { node: "22.0.0" } } }),
          ...(document ? { document: {} } : {}),
          ...(worker ? { WorkerGlobalScope: class {} } : {}),
          ...(channel ? { MessageChannel } : {}),
        };
        return yieldKind(scope) === "timer";
      },
    ),
  );
});

Deno.test("a message yield resolves in a later task, after the pending microtasks", async () => {
  for (const kind of ["message", "timer"] as const) {
    const order: string[] = [];
    const yielded = yieldToEventLoop(kind).then(() => order.push("yield"));
    queueMicrotask(() => order.push("microtask"));
    await yielded;
    assert.deepEqual(order, ["microtask", "yield"], kind);
  }
});

Deno.test("the pacer yields the way it was given, once its interval has passed", async () => {
  const pacer = new EventLoopPacer(0, "message");
  assert.equal(pacer.kind, "message");
  let settled = false;
  const step = pacer.maybeYield().then(() => settled = true);
  await Promise.resolve();
  assert.equal(settled, false, "a due yield waits for a task");
  await step;
  // A long interval does not yield: resolves within the microtask queue.
  const idle = new EventLoopPacer(60_000, "message");
  let done = false;
  idle.maybeYield().then(() => done = true);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(done, true);
});
