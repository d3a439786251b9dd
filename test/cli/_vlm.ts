// Runs the CLI as users do: a real `deno run tools/vlm.ts` subprocess.
const VLM = new URL("../../tools/vlm.ts", import.meta.url).pathname;

export interface CliOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `vlm args...` with the given Deno permission flags. */
export async function runVlm(permissions: string[], args: string[]): Promise<CliOutput> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, VLM, ...args],
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
