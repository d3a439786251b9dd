/**
 * GPT-2's byte-level alphabet: the printable character that stands for each
 * byte in a byte-level BPE vocabulary (`Ġ` for a space, `Ċ` for a newline).
 *
 * @module
 */

/** The stand-in character of each byte value 0..255. */
export function byteSymbols(): string[] {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const symbols: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) symbols.push(String.fromCharCode(printable(b) ? b : 256 + extra++));
  return symbols;
}
