// The memory-aware admission queue on its own: FIFO turns, the in-flight estimate never over the
// budget (a property over random arrivals and run times), a bounded length and a bounded wait,
// and a waiter that aborts leaves without blocking those behind it.
import assert from "node:assert/strict";
import fc from "fast-check";
import { RequestQueue } from "../../src/server/request_queue.ts";

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function admittedRelease(admission: Awaited<ReturnType<RequestQueue["admit"]>>): () => void {
  assert.ok(admission.admitted, `refused: ${!admission.admitted && admission.reason}`);
  return admission.release;
}

Deno.test("queue: a request that fits alone but not next to the one in flight waits for it", async () => {
  const queue = new RequestQueue({
    maxWaiting: 4,
    maxWaitMs: 10_000,
    maxActive: 4,
    budgetBytes: 100,
  });
  const first = admittedRelease(await queue.admit(60));
  const small = admittedRelease(await queue.admit(30)); // 90 ≤ 100: runs together
  let bigAdmitted = false;
  const big = queue.admit(60).then((a) => (bigAdmitted = true, a));
  // Behind the waiting big one, a tiny request waits too (FIFO: no overtaking).
  let tinyAdmitted = false;
  const tiny = queue.admit(1).then((a) => (tinyAdmitted = true, a));
  await tick();
  assert.deepEqual(queue.stats, { active: 2, waiting: 2 });
  assert.equal(bigAdmitted || tinyAdmitted, false);
  small();
  await tick();
  assert.equal(bigAdmitted, false, "60 + 60 > 100");
  first();
  const releaseBig = admittedRelease(await big);
  const releaseTiny = admittedRelease(await tiny);
  assert.equal(queue.memory.inFlightBytes, 61);
  assert.equal(queue.memory.peakInFlightBytes, 90);
  releaseBig();
  releaseTiny();
  releaseTiny(); // releasing twice counts once
  assert.equal(queue.memory.inFlightBytes, 0);
  assert.deepEqual(queue.stats, { active: 0, waiting: 0 });
});

Deno.test("queue: a full queue and a wait that runs out are refused with their reason", async () => {
  const queue = new RequestQueue({ maxWaiting: 1, maxWaitMs: 50, maxActive: 1 });
  const running = admittedRelease(await queue.admit(0));
  const waiting = queue.admit(0);
  assert.deepEqual(await queue.admit(0), { admitted: false, reason: "full" });
  const started = performance.now();
  assert.deepEqual(await waiting, { admitted: false, reason: "timeout" });
  assert.ok(performance.now() - started >= 40);
  assert.equal(queue.memory.refused, 2);
  assert.deepEqual(queue.stats, { active: 1, waiting: 0 });
  running();
  admittedRelease(await queue.admit(0))();
});

Deno.test("queue: a waiter that aborts leaves, and the one behind it moves up", async () => {
  const queue = new RequestQueue({ maxWaiting: 2, maxWaitMs: 10_000, maxActive: 1 });
  const running = admittedRelease(await queue.admit(0));
  const gone = new AbortController();
  const leaving = queue.admit(0, gone.signal);
  const next = queue.admit(0);
  await tick();
  gone.abort(new DOMException("client left", "AbortError"));
  await assert.rejects(
    leaving,
    (e: unknown) => e instanceof DOMException && e.name === "AbortError",
  );
  assert.deepEqual(queue.stats, { active: 1, waiting: 1 });
  assert.equal(queue.memory.leftWaiting, 1);
  running();
  admittedRelease(await next)();
  assert.deepEqual(queue.stats, { active: 0, waiting: 0 });
});

Deno.test("queue: a large waiter at the head that leaves lets the smaller ones behind it in", async () => {
  const queue = new RequestQueue({
    maxWaiting: 4,
    maxWaitMs: 10_000,
    maxActive: 4,
    budgetBytes: 100,
  });
  const running = admittedRelease(await queue.admit(70));
  const gone = new AbortController();
  const big = queue.admit(80, gone.signal);
  const small = queue.admit(20);
  gone.abort();
  await big.catch(() => {});
  admittedRelease(await small)();
  running();
});

Deno.test("queue (property): in-flight estimate ≤ budget and turns in arrival order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.array(
        fc.record({ cost: fc.integer({ min: 0, max: 100 }), ms: fc.integer({ min: 0, max: 3 }) }),
        {
          minLength: 1,
          maxLength: 12,
        },
      ),
      async (maxActive, requests) => {
        const budget = 100;
        const queue = new RequestQueue({
          maxWaiting: requests.length,
          maxWaitMs: 60_000,
          maxActive,
          budgetBytes: budget,
        });
        const order: number[] = [];
        let active = 0;
        await Promise.all(requests.map(async ({ cost, ms }, i) => {
          const release = admittedRelease(await queue.admit(cost));
          order.push(i);
          active++;
          assert.ok(active <= maxActive);
          assert.ok(queue.memory.inFlightBytes <= budget);
          await tick(ms);
          active--;
          release();
        }));
        assert.deepEqual(order, requests.map((_, i) => i));
        assert.ok(queue.memory.peakInFlightBytes <= budget);
        assert.equal(queue.memory.inFlightBytes, 0);
      },
    ),
    { numRuns: 40 },
  );
});
