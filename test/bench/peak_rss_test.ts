/** The peak-memory figure is the kernel's high-water mark, not a sample that misses spikes. */
import assert from "node:assert/strict";
import { osPeakRss, rssBytes, trackPeakRss } from "../../tools/bench/peak_rss.ts";

Deno.test("peak RSS: a short-lived 96 MiB allocation shows in the peak, which is ≥ current RSS", () => {
  const tracker = trackPeakRss();
  try {
    const before = rssBytes();
    // Allocated, touched and dropped between two samples: only the kernel's counter sees it.
    let spike: Uint8Array | undefined = new Uint8Array(96 * 2 ** 20);
    for (let i = 0; i < spike.length; i += 4096) spike[i] = 1;
    const during = rssBytes();
    spike = undefined;
    const now = rssBytes();
    const peak = tracker.peak();
    assert.ok(
      during - before > 64 * 2 ** 20,
      `the allocation is resident (${during - before})`,
    );
    assert.ok(peak >= now, `peak ${peak} < current ${now}`);
    assert.ok(peak >= during, `peak ${peak} missed the spike at ${during}`);
    // A kernel high-water mark, never a sample: VmHWM where Deno may read /proc/self (it needs
    // --allow-all), getrusage's maxRSS otherwise.
    if (Deno.build.os === "linux") {
      assert.ok(["VmHWM", "getrusage"].includes(tracker.source()));
    }
  } finally {
    tracker.stop();
  }
});

Deno.test("peak RSS: without read permission on /proc the kernel counter still answers", async () => {
  const script = `import { osPeakRss } from ${
    JSON.stringify(
      new URL("../../tools/bench/peak_rss.ts", import.meta.url).href,
    )
  }; console.log(JSON.stringify(osPeakRss()));`;
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/probe.ts`, script);
  // No permissions at all: /proc/self/status is unreadable there.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-prompt", `${dir}/probe.ts`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const peak = JSON.parse(new TextDecoder().decode(out.stdout));
  if (Deno.build.os === "linux") {
    assert.equal(peak.source, "getrusage");
    assert.ok(peak.bytes > 10 * 2 ** 20);
  }
  assert.ok(osPeakRss() !== undefined);
});
