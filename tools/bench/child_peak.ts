/**
 * The peak RSS of a child process as its own kernel counters say: the child
 * prints its figures and waits on stdin; meanwhile the parent reads VmHWM
 * and VmRSS from `/proc/<pid>/status` (exec resets them, unlike getrusage's
 * maxRSS, which carries the spawner's peak), then lets it exit. Linux only.
 *
 * @module
 */

/** Runs `command` (whose last stdout line is JSON) and returns that JSON with `peakRssBytes` from VmHWM. */
export async function runWithPeak(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; json: Record<string, unknown> | undefined; stderr: string }> {
  const child = new Deno.Command(command, {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const decoder = new TextDecoder();
  let text = "";
  let json: Record<string, unknown> | undefined;
  for await (const chunk of child.stdout) {
    text += decoder.decode(chunk, { stream: true });
    const line = text.split("\n").find((l) => l.startsWith("{"));
    if (line && text.includes("\n", text.indexOf(line))) {
      const figures: Record<string, unknown> = JSON.parse(line);
      json = figures;
      // Through cat: Deno lets only --allow-all read /proc, the bench has --allow-run.
      const cat = await new Deno.Command("cat", { args: [`/proc/${child.pid}/status`] }).output();
      const status = decoder.decode(cat.stdout);
      const kib = (field: string) =>
        Number(status.match(new RegExp(`^${field}:\\s+(\\d+)`, "m"))?.[1] ?? 0) * 1024;
      // The kernel updates VmHWM lazily: the current RSS may be above it.
      figures.peakRssBytes = Math.max(kib("VmHWM"), kib("VmRSS"));
      figures.peakSource = "VmHWM";
      break;
    }
  }
  await child.stdin.close();
  const { code } = await child.status;
  return { code, json, stderr: await stderr };
}
