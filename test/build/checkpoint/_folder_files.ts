/** Every file under `dir` by its `/`-separated relative path, with its bytes. */
export async function folderFiles(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const walk = async (sub: string) => {
    for await (const entry of Deno.readDir(`${dir}/${sub}`)) {
      const path = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory) await walk(path);
      else out.set(path, await Deno.readFile(`${dir}/${path}`));
    }
  };
  await walk("");
  return out;
}
