import { PDFParse } from 'pdf-parse';
import { type DocumentType, UnsupportedDocumentError } from './port.js';

// Text out of uploaded documents: plain text and Markdown as they are, PDF through pdf-parse
// (a maintained extractor on Mozilla's pdf.js). Anything else is refused with the types accepted.

export async function extractDocumentText(bytes: Uint8Array, type: DocumentType): Promise<string> {
  if (type !== 'application/pdf') {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    if (text.includes('\u0000')) throw new UnsupportedDocumentError('The file is binary, not text.');
    return text;
  }
  const parser = new PDFParse({ data: bytes });
  try {
    const result = await parser.getText();
    // pdf-parse marks page ends with "-- N of M --"; they carry no knowledge.
    return result.text.replace(/^-- \d+ of \d+ --$/gm, '').trim();
  } catch (err) {
    throw new UnsupportedDocumentError(`The PDF could not be read: ${(err as Error).message}`);
  } finally {
    await parser.destroy();
  }
}
