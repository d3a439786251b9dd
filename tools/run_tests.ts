/**
 * `deno task test`: runs the whole suite with `deno test`, then prints one
 * final line `N passed, N failed` read from the JUnit report (CI reads that
 * line, not Deno's own summary). Extra arguments are passed to `deno test`.
 *
 * @module
 */
const REPORT = ".artifacts/junit.xml";

await Deno.mkdir(".artifacts", { recursive: true });
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "test",
    "--allow-read",
    "--allow-write",
    "--allow-run",
    "--allow-env",
    "--allow-ffi",
    // The Hub and server tests talk to servers they start on the loopback interface.
    "--allow-net=127.0.0.1",
    `--junit-path=${REPORT}`,
    ...Deno.args,
  ],
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
const status = await child.status;

let passed = 0;
let failed = 0;
try {
  const xml = await Deno.readTextFile(REPORT);
  for (const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = match[2] ?? "";
    if (/<(failure|error)\b/.test(body)) failed++;
    else if (!/<skipped\b/.test(body)) passed++;
  }
} catch (error) {
  console.error(`could not read the test report ${REPORT}: ${error}`);
  failed = Math.max(failed, 1);
}
// A crash before any test ran still has to show as a failure.
if (!status.success && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(status.success && failed === 0 ? 0 : 1);
