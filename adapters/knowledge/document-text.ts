import { PDFParse } from 'pdf-parse';

// Text out of uploaded documents: plain text and Markdown as they are, PDF through pdf-parse
// (a maintained extractor on Mozilla's pdf.js). Anything else is refused with the types accepted.

export const ACCEPTED_DOCUMENT_TYPES = ['text/plain', 'text/markdown', 'application/pdf'] as const;
export type DocumentType = (typeof ACCEPTED_DOCUMENT_TYPES)[number];

export class UnsupportedDocumentError extends Error {
  override readonly name = 'UnsupportedDocumentError';
}

/** The document's type from its declared content type, else its file name. */
export function documentType(contentType: string | undefined, filename: string | undefined): DocumentType {
  const declared = contentType?.split(';')[0]?.trim().toLowerCase();
  if (declared === 'application/pdf' || declared === 'text/markdown' || declared === 'text/plain') return declared;
  const name = filename?.toLowerCase() ?? '';
  if (name.endsWith('.pdf')) return 'application/pdf';
  if (name.endsWith('.md') || name.endsWith('.markdown')) return 'text/markdown';
  if (name.endsWith('.txt') || name.endsWith('.log')) return 'text/plain';
  throw new UnsupportedDocumentError(
    `Unsupported document type ${declared ?? 'unknown'} (${filename ?? 'no name'}); send text/plain, text/markdown or application/pdf.`,
  );
}

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
