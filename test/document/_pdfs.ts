// PDFs made for the tests: pdf-lib pages with filled rectangles at known places,
// and hand-written PDF syntax for what pdf-lib cannot write (encryption).
import { PDFDocument, rgb } from "pdf-lib";
import { VlmError } from "../../src/errors/vlm_error.ts";

/** A rectangle in PDF points, origin at the page's bottom left as in PDF. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  color: [number, number, number];
}

/** One page: its size in points and the rectangles drawn on it. */
export interface PageSpec {
  width: number;
  height: number;
  boxes?: Box[];
}

/** A PDF with the given pages. */
export async function makePdf(pages: readonly PageSpec[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  for (const spec of pages) {
    const page = doc.addPage([spec.width, spec.height]);
    for (const box of spec.boxes ?? []) {
      const [r, g, b] = box.color;
      page.drawRectangle({ ...box, color: rgb(r / 255, g / 255, b / 255) });
    }
  }
  return await doc.save();
}

/** A PDF written by hand from object bodies, with a correct cross-reference table. */
export function handWrittenPdf(objects: readonly string[], trailerExtra = ""): Uint8Array {
  let text = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(text.length);
    text += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = text.length;
  text += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) text += `${String(offset).padStart(10, "0")} 00000 n \n`;
  text += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailerExtra}>>\n` +
    `startxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(text);
}

/**
 * A one-page PDF under the standard security handler (RC4, revision 2) whose
 * user password is not empty: its /U entry does not match the empty password.
 */
export function encryptedPdf(): Uint8Array {
  const hex = (seed: number) =>
    Array.from({ length: 32 }, (_, i) => ((i * 37 + seed) & 0xff).toString(16).padStart(2, "0"))
      .join("");
  return handWrittenPdf(
    [
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
      `<< /Filter /Standard /V 1 /R 2 /O <${hex(11)}> /U <${hex(99)}> /P -44 >>`,
    ],
    `/Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] `,
  );
}

/** The RGB triple at (`x`, `y`) of an RGB raster. */
export function pixelAt(
  image: { width: number; data: Uint8Array },
  x: number,
  y: number,
): [number, number, number] {
  const i = (y * image.width + x) * 3;
  return [image.data[i], image.data[i + 1], image.data[i + 2]];
}

/** The VlmError `body` throws (fails when it throws nothing or something else). */
export function caught(body: () => unknown): VlmError {
  try {
    body();
  } catch (error) {
    if (error instanceof VlmError) return error;
    throw error;
  }
  throw new Error("expected a VlmError, nothing was thrown");
}

/** The VlmError `body` rejects with. */
export async function caughtAsync(body: () => Promise<unknown>): Promise<VlmError> {
  try {
    await body();
  } catch (error) {
    if (error instanceof VlmError) return error;
    throw error;
  }
  throw new Error("expected a VlmError, the promise resolved");
}
