/**
 * A tokenizer for synthesized models: byte-level BPE with the 256 byte symbols,
 * no merges, every special token of the spec at its exact id, and reserved
 * entries filling the rest of the vocabulary. Any text round-trips; the ids a
 * random model generates decode to byte symbols or `<|reserved_N|>`.
 *
 * @module
 */
import type { VariantSpec } from "../spec/types.ts";
import { rowColText } from "../tokens/prompt.ts";
import { familyOfTokens } from "../families/registry.ts";
import { tokenizerAddsBos } from "../tokens/conversation.ts";
import { byteSymbols } from "../text/byte_symbols.ts";

export { byteSymbols };

/** Special token texts by id, from the spec (plus pad/unk names where the spec gives only ids). */
export function specialTokens(spec: VariantSpec): Map<number, string> {
  const t = spec.tokens;
  const named = new Map<number, string>();
  const add = (id: number | null | undefined, text: string) => {
    if (id === null || id === undefined || id < 0) return;
    const existing = named.get(id);
    if (existing !== undefined && existing !== text) {
      throw new Error(`token id ${id} is both ${existing} and ${text}`);
    }
    named.set(id, text);
  };
  const filler = familyOfTokens(t).prompt.fillerTokens;
  add(t.bos?.id, t.bos?.text ?? "");
  add(t.endOfUtterance.id, t.endOfUtterance.text);
  add(t.image.id, t.image.text);
  add(t.fakeTokenAroundImage?.id, t.fakeTokenAroundImage?.text ?? "");
  add(t.globalImage?.id, t.globalImage?.text ?? "");
  if (t.rowCol?.firstId !== null && t.rowCol) {
    for (let r = 1; r <= t.rowCol.maxRows; r++) {
      for (let c = 1; c <= t.rowCol.maxCols; c++) {
        add(t.rowCol.firstId! + (r - 1) * t.rowCol.maxCols + (c - 1), rowColText(r, c));
      }
    }
  }
  for (const id of t.eosIds) if (!named.has(id)) add(id, `<|eos_${id}|>`);
  if (t.padId !== null && !named.has(t.padId)) add(t.padId, filler.pad);
  if (!named.has(0)) add(0, filler.unknown);
  return named;
}

/** `tokenizer.json` (Hugging Face tokenizers format) for `spec`. */
export function tokenizerJson(spec: VariantSpec): Record<string, unknown> {
  const specials = specialTokens(spec);
  const vocab: Record<string, number> = {};
  for (const [id, text] of specials) vocab[text] = id;
  const symbols = byteSymbols();
  let next = 0;
  const free = () => {
    while (specials.has(next)) next++;
    return next++;
  };
  for (const symbol of symbols) vocab[symbol] = free();
  for (;;) {
    const id = free();
    if (id >= spec.decoder.vocab) break;
    vocab[`<|reserved_${id}|>`] = id;
  }
  const byteLevel = {
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: true,
  };
  const bos = spec.tokens.bos;
  const postProcessor = tokenizerAddsBos(spec.tokens) && bos?.id !== null && bos
    ? {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: bos.text, type_id: 0 } }, {
        Sequence: { id: "A", type_id: 0 },
      }],
      pair: [
        { SpecialToken: { id: bos.text, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { [bos.text]: { id: bos.text, ids: [bos.id], tokens: [bos.text] } },
    }
    : byteLevel;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [...specials].sort((a, b) => a[0] - b[0]).map(([id, content]) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: postProcessor,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}
