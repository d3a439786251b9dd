/**
 * The default PDF render scale, apart from the PDFium code so that modules
 * which only need the number do not load PDFium.
 *
 * @module
 */

/** docling's VLM pipeline renders pages at scale 2.0: 144 dots per inch. */
export const DEFAULT_PDF_SCALE = 2.0;
