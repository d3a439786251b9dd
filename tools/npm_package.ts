/**
 * `deno task package`: builds the npm package of vlmkit and packs it into
 * `.artifacts/`.
 *
 * 1. Stages the shipped sources (mod.ts, src/, plugins/, variants/; no tests)
 *    and rewrites `npm:pkg@version[/sub]` specifiers to `pkg[/sub]`,
 *    collecting the dependencies with their exact versions from them.
 * 2. Installs those dependencies in the staging folder (types only, no
 *    install scripts) and compiles with the TypeScript compiler API to ESM
 *    `.js` + `.d.ts` (relative `.ts` imports rewritten to `.js`).
 * 3. Writes package.json, whose `exports` mirror deno.json's (`types` and
 *    `default` per subpath), a README and the LICENSE, and runs `npm pack`.
 *
 * onnxruntime-node is an optional peer dependency: the default backend is
 * onnxruntime-web (a dependency), and onnxruntime-node is 113 MB with an
 * install script that downloads more; a Node server that wants the native
 * backend installs it next to vlmkit.
 *
 * Usage: `deno task package [--out DIR] [--json]`. Prints the tarball path
 * (or, with `--json`, `{ tarball, bytes, files, dependencies }`).
 *
 * @module
 */
import ts from "typescript";
import { parseArgs } from "node:util";
import { dirname, join, relative } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;
/** What the package ships, relative to the checkout. */
const SHIPPED = ["mod.ts", "src", "plugins", "variants"];
/** Only needed to compile (types); not dependencies of the package. */
const BUILD_ONLY = { "@types/node": "20.19.8" };
/** Installed by the host when it wants the native backend. */
const OPTIONAL_PEERS = new Set(["onnxruntime-node"]);
/** Node with `process.getBuiltinModule` (the platform seam's Node adapter). */
const NODE_ENGINES = ">=20.16";

/**
 * Types of imports TypeScript has no loader for (Deno's `bytes` imports, falling back at run
 * time), and of the optional peer, which is not installed to build (its API is cast to OrtApi).
 */
const AMBIENT = `declare module "onnxruntime-node";
declare module "*.wasm" {
  const bytes: Uint8Array;
  export default bytes;
}
declare namespace Deno {
  const permissions: {
    querySync(descriptor: { name: string; path?: string | URL }): { state: string };
  };
}
`;

const NPM_SPECIFIER = /(["'])npm:((?:@[^/"'@]+\/)?[^/"'@]+)@([^/"']+)((?:\/[^"']*)?)\1/g;

/** A source file as staged: specifiers rewritten, dependencies it names. */
export interface StagedSource {
  /** The rewritten text. */
  text: string;
  /** Package name to exact version, from its `npm:` specifiers. */
  dependencies: Map<string, string>;
}

/** Rewrites `npm:pkg@version[/sub]` to `pkg[/sub]` and collects `pkg` → `version`. */
export function rewriteNpmSpecifiers(text: string): StagedSource {
  const dependencies = new Map<string, string>();
  const rewritten = text.replace(
    NPM_SPECIFIER,
    (_match, quote: string, name: string, version: string, sub: string) => {
      const known = dependencies.get(name);
      if (known && known !== version) {
        throw new Error(`${name} is imported at versions ${known} and ${version}`);
      }
      dependencies.set(name, version);
      return `${quote}${name}${sub}${quote}`;
    },
  );
  return { text: rewritten, dependencies };
}

async function* shippedFiles(path: string): AsyncGenerator<string> {
  const info = await Deno.stat(join(ROOT, path));
  if (info.isFile) {
    if (/\.(ts|json)$/.test(path) && !/_test\.ts$/.test(path)) yield path;
    return;
  }
  for await (const entry of Deno.readDir(join(ROOT, path))) {
    yield* shippedFiles(join(path, entry.name));
  }
}

/** Copies the shipped sources into `stage`; returns every dependency and its version. */
async function stageSources(stage: string): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for (const top of SHIPPED) {
    for await (const path of shippedFiles(top)) {
      const target = join(stage, path);
      await Deno.mkdir(dirname(target), { recursive: true });
      if (!path.endsWith(".ts")) {
        await Deno.copyFile(join(ROOT, path), target);
        continue;
      }
      const { text, dependencies } = rewriteNpmSpecifiers(
        await Deno.readTextFile(join(ROOT, path)),
      );
      for (const [name, version] of dependencies) {
        const known = all.get(name);
        if (known && known !== version) {
          throw new Error(`${name} is imported at versions ${known} and ${version} (${path})`);
        }
        all.set(name, version);
      }
      await Deno.writeTextFile(target, text);
    }
  }
  return all;
}

async function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const output = await new Deno.Command(command, {
    args,
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed:\n${text(output.stderr)}${text(output.stdout)}`,
    );
  }
  return text(output.stdout);
}

/** Compiles the staged entry points to `outDir`; throws with every diagnostic on errors. */
function compile(stage: string, entries: string[], outDir: string): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    rewriteRelativeImportExtensions: true,
    resolveJsonModule: true,
    declaration: true,
    strict: true,
    skipLibCheck: true,
    // ES2024 library (String.prototype.isWellFormed, ...): Node 20 has it.
    lib: ["lib.es2024.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts", "lib.dom.asynciterable.d.ts"],
    types: ["node"],
    typeRoots: [join(stage, "node_modules", "@types")],
    rootDir: stage,
    outDir,
    newLine: ts.NewLineKind.LineFeed,
  };
  const program = ts.createProgram([...entries, join(stage, "ambient.d.ts")], options);
  const emitted = program.emit();
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    throw new Error(ts.formatDiagnostics(errors, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => stage,
      getNewLine: () => "\n",
    }));
  }
  return program.getSourceFiles().map((f) => f.fileName).filter((f) => !f.includes("node_modules"));
}

const README = (name: string, version: string, ort: string) =>
  `# vlmkit

Small vision-language models (SmolVLM, SmolDocling, Idefics3, MobileVLM) on ONNX Runtime, for
Node, Deno and edge runtimes. This is the npm build of vlmkit ${version}: ESM with type
declarations. Model files are not part of the package: point \`loadModel\` at a model folder
(a local path, an \`http(s)\` URL, \`hf:owner/name\`, or a \`ModelFolder\` object).

## Install

\`\`\`sh
npm install ${name}
\`\`\`

The default backend, \`wasm\` (onnxruntime-web), needs nothing else. For the native backend
(onnxruntime-node, faster on servers) install it next to vlmkit. Its install script downloads
CUDA files by default; skip them unless you use CUDA:

\`\`\`sh
ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@${ort}
\`\`\`

Node 20.16 or newer. Deno projects can use the package from \`node_modules\`
(\`"nodeModulesDir": "auto"\`) or import vlmkit's sources directly.

## Use

\`\`\`ts
import { loadModel } from "${name}";

const model = await loadModel("./models/tiny-smolvlm", { backend: "native" });
const result = await model.generate({
  prompt: "What color is the shape?",
  images: ["shape.png"],
  maxNewTokens: 16,
});
console.log(result.text);
await model.dispose();
\`\`\`

Subpaths: \`${name}/plugin\`, \`${name}/plugins/<task>\`, \`${name}/doctags\`, \`${name}/hub\`,
\`${name}/server\`, \`${name}/build\`, \`${name}/spec\`, \`${name}/tokens\`, \`${name}/variants\`,
\`${name}/image\`.
`;

/** Builds and packs the package; returns the tarball's path and facts about it. */
export async function buildNpmPackage(out: string) {
  const denoJson = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const work = await Deno.makeTempDir({ prefix: "vlmkit-npm-" });
  try {
    const stage = join(work, "stage");
    const dependencies = await stageSources(stage);
    await Deno.writeTextFile(join(stage, "ambient.d.ts"), AMBIENT);
    await Deno.writeTextFile(
      join(stage, "package.json"),
      JSON.stringify({
        name: "vlmkit-stage",
        private: true,
        type: "module",
        dependencies: Object.fromEntries(
          [...dependencies].filter(([name]) => !OPTIONAL_PEERS.has(name)),
        ),
        devDependencies: BUILD_ONLY,
      }),
    );
    await run("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund"], stage);

    const pkg = join(work, "package");
    const exports: Record<string, { types: string; default: string }> = {};
    const entries: string[] = [];
    for (const [subpath, source] of Object.entries(denoJson.exports as Record<string, string>)) {
      const base = `./dist/${source.replace(/^\.\//, "").replace(/\.ts$/, "")}`;
      exports[subpath] = { types: `${base}.d.ts`, default: `${base}.js` };
      entries.push(join(stage, source));
    }
    const compiled = compile(stage, entries, join(pkg, "dist"));

    const runtime = [...dependencies].filter(([name]) => !OPTIONAL_PEERS.has(name)).sort();
    const peers = [...dependencies].filter(([name]) => OPTIONAL_PEERS.has(name)).sort();
    const manifest = {
      name: denoJson.name,
      version: denoJson.version,
      description:
        "Small vision-language models (SmolVLM, SmolDocling, Idefics3, MobileVLM) on ONNX Runtime",
      license: "MIT",
      type: "module",
      exports,
      files: ["dist", "README.md", "LICENSE"],
      engines: { node: NODE_ENGINES },
      dependencies: Object.fromEntries(runtime),
      peerDependencies: Object.fromEntries(peers),
      peerDependenciesMeta: Object.fromEntries(peers.map(([name]) => [name, { optional: true }])),
    };
    await Deno.writeTextFile(join(pkg, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
    await Deno.writeTextFile(
      join(pkg, "README.md"),
      README(denoJson.name, denoJson.version, dependencies.get("onnxruntime-node") ?? ""),
    );
    await Deno.copyFile(join(ROOT, "LICENSE"), join(pkg, "LICENSE"));

    await Deno.mkdir(out, { recursive: true });
    const packed = JSON.parse(await run("npm", ["pack", "--json", "--pack-destination", out], pkg));
    const tarball = join(out, packed[0].filename);
    return {
      tarball,
      bytes: (await Deno.stat(tarball)).size,
      unpackedBytes: packed[0].unpackedSize as number,
      files: packed[0].entryCount as number,
      modules: compiled.length,
      dependencies: manifest.dependencies,
      peerDependencies: manifest.peerDependencies,
    };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string" }, json: { type: "boolean" } },
  });
  const out = values.out ?? join(ROOT, ".artifacts");
  const started = performance.now();
  const result = await buildNpmPackage(out);
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `${relative(Deno.cwd(), result.tarball)}: ${(result.bytes / 1024).toFixed(0)} kB packed, ` +
        `${result.files} files, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
}
