/**
 * An example third-party task plugin: `choice` answers a question with
 * exactly one of a fixed list of strings, by constrained decoding. Its
 * logits processor walks a trie of the choices' token sequences and allows
 * only tokens that continue one of them (and EOS once one is complete).
 *
 * It lives in its own folder as a plugin outside vlmkit would: its deno.json
 * maps `vlmkit/plugin` to the package, and it imports nothing else. Bundle it
 * for an edge function with `vlm plugin bundle mod.ts --out choice.js`.
 *
 * @module
 */
import {
  parsePluginOptions,
  type PluginContext,
  type TaskPlugin,
  userTurn,
  z,
} from "vlmkit/plugin";

/** Options of {@linkcode choice}. */
export interface ChoiceOptions {
  /** The allowed answers (at least one). */
  choices: string[];
  /** Question used when the task input has no prompt. */
  question?: string;
}

/** The chosen answer. */
export interface ChoiceResult {
  /** One of the choices. */
  choice: string;
}

const Options = z.object({
  choices: z.array(z.string().min(1)).min(1),
  question: z.string().optional(),
}).strict();

interface TrieNode {
  children: Map<number, TrieNode>;
  complete: boolean;
}

/** A trie of the token sequences of every choice, with and without a leading space. */
function choiceTrie(choices: readonly string[], context: PluginContext): TrieNode {
  const root: TrieNode = { children: new Map(), complete: false };
  for (const text of choices) {
    for (const variant of [text, ` ${text}`]) {
      let node = root;
      for (const id of context.tokenizer.encode(variant, false)) {
        let next = node.children.get(id);
        if (!next) {
          next = { children: new Map(), complete: false };
          node.children.set(id, next);
        }
        node = next;
      }
      node.complete = true;
    }
  }
  return root;
}

/** The choice plugin. */
export function choice(options: ChoiceOptions): TaskPlugin<ChoiceResult> {
  const o = parsePluginOptions("choice", Options, options);
  return {
    name: "choice",
    optionsSchema: Options,
    maxNewTokens: 64,
    output: z.object({ choice: z.enum(o.choices as [string, ...string[]]) }),
    hooks: {
      prompt: (input) => userTurn(input.images ?? [], input.prompt ?? o.question ?? ""),
      logitsProcessor: (context) => {
        const trie = choiceTrie(o.choices, context);
        const eos = context.plan.spec.tokens.eosIds;
        return (logits, generated) => {
          let node: TrieNode | undefined = trie;
          for (const id of generated) node = node?.children.get(id);
          const allowed = new Set(node ? node.children.keys() : []);
          if (!node || node.complete) { for (const id of eos) allowed.add(id); }
          for (let id = 0; id < logits.length; id++) if (!allowed.has(id)) logits[id] = -Infinity;
        };
      },
      postprocess: (text) => ({ choice: text.trim() }),
    },
  };
}
