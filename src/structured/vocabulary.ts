/**
 * The model's vocabulary as bytes, indexed for the token mask: each token's
 * UTF-8 bytes (what it adds to the decoded text), a trie over them so a mask
 * walks shared prefixes once, and the tokens that are plain string content
 * (no quote, backslash or control byte, whole UTF-8 characters), which inside
 * a JSON string are all allowed or refused together.
 *
 * Token texts map to bytes by the tokenizer's scheme: byte-level BPE (GPT-2's
 * byte symbols; SmolVLM, SmolLM), SentencePiece (`▁` for space, `<0xAB>` byte
 * fallback; Llama, MobileVLM) or plain text. The scheme is chosen by checking
 * it against the tokenizer's own decoding. Special tokens have no bytes: they
 * never appear in the decoded text.
 *
 * @module
 */
import { byteSymbols } from "../text/byte_symbols.ts";
import { VlmError } from "../errors/vlm_error.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";

/** A trie node: the byte leading to each child, and the tokens that end here. */
export interface TrieNode {
  /** Byte on the edge to each child. */
  bytes: number[];
  /** Children, parallel to `bytes`. */
  children: TrieNode[];
  /** Token ids whose bytes end at this node. */
  ids: number[];
}

/** The vocabulary, indexed. */
export interface Vocabulary {
  /** Number of token ids. */
  size: number;
  /** Bytes of each token; null for special tokens and tokens with no text. */
  bytes: readonly (Uint8Array | null)[];
  /** Trie over every token with bytes. */
  trie: TrieNode;
  /** Trie over the tokens that are not plain string content. */
  structuralTrie: TrieNode;
  /** Plain string content tokens. */
  plainIds: Int32Array;
  /** Their lengths in UTF-16 code units, parallel to `plainIds`. */
  plainUnits: Int32Array;
  /** Their bytes as strings of one char per byte, parallel to `plainIds`. */
  plainRaw: string[];
  /** Whether every byte has a one-byte token (then budget steering can always close). */
  everyByte: boolean;
}

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

type Scheme = (text: string, id: number) => Uint8Array;

function byteLevel(tokenizer: TextTokenizer): Scheme {
  const byteOf = new Map(byteSymbols().map((symbol, byte) => [symbol, byte]));
  return (text, id) => {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const byte = byteOf.get(text[i]);
      // Added tokens keep their literal text.
      if (byte === undefined) return encoder.encode(tokenizer.decode([id], false));
      bytes[i] = byte;
    }
    return bytes;
  };
}

const sentencePiece: Scheme = (text) => {
  const fallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(text);
  if (fallback) return Uint8Array.of(parseInt(fallback[1], 16));
  return encoder.encode(text.replaceAll("\u2581", " "));
};

const plain: Scheme = (text) => encoder.encode(text);

/** Whether `scheme` reproduces the tokenizer's decoding on a sample of tokens. */
function agrees(tokenizer: TextTokenizer, scheme: Scheme, size: number): boolean {
  const step = Math.max(1, Math.floor(size / 2000));
  for (let id = 0; id < size; id += step) {
    const text = tokenizer.tokenText(id);
    if (text === undefined || tokenizer.isSpecial(id)) continue;
    let expected: string;
    try {
      expected = strictUtf8.decode(scheme(text, id));
    } catch {
      continue; // part of a character: decoding shows U+FFFD, nothing to compare
    }
    const decoded = tokenizer.decode([id], false);
    // SentencePiece decoders drop the space that starts a text.
    if (decoded !== expected && decoded !== expected.replace(/^ /, "")) return false;
  }
  return true;
}

function newNode(): TrieNode {
  return { bytes: [], children: [], ids: [] };
}

function insert(root: TrieNode, bytes: Uint8Array, id: number): void {
  let node = root;
  for (const byte of bytes) {
    let index = node.bytes.indexOf(byte);
    if (index < 0) {
      index = node.bytes.length;
      node.bytes.push(byte);
      node.children.push(newNode());
    }
    node = node.children[index];
  }
  node.ids.push(id);
}

/** UTF-16 length of plain string content, or -1 when `bytes` are not plain content. */
function plainUnits(bytes: Uint8Array): number {
  for (const byte of bytes) if (byte < 0x20 || byte === 0x22 || byte === 0x5c) return -1;
  try {
    return strictUtf8.decode(bytes).length;
  } catch {
    return -1;
  }
}

/** Builds the index of `tokenizer`'s vocabulary. */
export function buildVocabulary(tokenizer: TextTokenizer): Vocabulary {
  const size = tokenizer.vocabSize;
  const scheme = [byteLevel(tokenizer), sentencePiece, plain].find((s) =>
    agrees(tokenizer, s, size)
  );
  if (!scheme) {
    throw new VlmError(
      "usage",
      "structured outputs cannot map this tokenizer's tokens to bytes (not byte-level BPE, SentencePiece or plain text)",
      { fix: "use a model with a byte-level BPE or SentencePiece tokenizer" },
    );
  }
  const bytes: (Uint8Array | null)[] = [];
  const trie = newNode();
  const structuralTrie = newNode();
  const ids: number[] = [];
  const units: number[] = [];
  const raws: string[] = [];
  const singles = new Set<number>();
  for (let id = 0; id < size; id++) {
    const text = tokenizer.tokenText(id);
    const tokenBytes = text === undefined || tokenizer.isSpecial(id) ? null : scheme(text, id);
    if (!tokenBytes || tokenBytes.length === 0) {
      bytes.push(null);
      continue;
    }
    bytes.push(tokenBytes);
    insert(trie, tokenBytes, id);
    if (tokenBytes.length === 1) singles.add(tokenBytes[0]);
    const length = plainUnits(tokenBytes);
    if (length < 0) insert(structuralTrie, tokenBytes, id);
    else {
      ids.push(id);
      units.push(length);
      raws.push(String.fromCharCode(...tokenBytes));
    }
  }
  return {
    size,
    bytes,
    trie,
    structuralTrie,
    plainIds: Int32Array.from(ids),
    plainUnits: Int32Array.from(units),
    plainRaw: raws,
    everyByte: singles.size === 256,
  };
}

const cache = new WeakMap<TextTokenizer, Vocabulary>();

/** The vocabulary index of `tokenizer`, built on first use and kept while the tokenizer lives. */
export function vocabularyOf(tokenizer: TextTokenizer): Vocabulary {
  let vocabulary = cache.get(tokenizer);
  if (!vocabulary) {
    vocabulary = buildVocabulary(tokenizer);
    cache.set(tokenizer, vocabulary);
  }
  return vocabulary;
}
