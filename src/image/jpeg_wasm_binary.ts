/**
 * The JPEG decoder's WebAssembly binary (`mozjpeg_dec.wasm` of
 * `@jsquash/jpeg`), when a bundle embeds it. In the sources it is
 * `undefined` and `jpeg_wasm.ts` reads the file from the npm package (read
 * permission under Deno); `vlm bundle` substitutes this module with one that
 * carries the bytes, so a bundle decodes JPEGs with no permission and no fetch.
 *
 * @module
 */

/** The bytes of `mozjpeg_dec.wasm`, or `undefined` to read them from the npm package. */
export const JPEG_WASM_BINARY: Uint8Array | undefined = undefined;
