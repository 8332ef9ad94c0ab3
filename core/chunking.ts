// Splits documents into retrieval chunks: first by Markdown headings (keeping the heading path as
// the chunk's section), then by size with overlap so a sentence cut at a boundary is in both chunks.

export interface ChunkOptions {
  /** Target maximum characters per chunk. */
  maxChars?: number;
  /** Characters repeated from the end of one chunk at the start of the next. */
  overlapChars?: number;
}

export interface TextChunk {
  index: number;
  /** Heading path, e.g. "Service down > Diagnosis"; empty before the first heading. */
  section: string;
  text: string;
}

const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;

function splitBySize(text: string, maxChars: number, overlapChars: number): string[] {
  if (text.length <= maxChars) return [text];
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + maxChars, text.length);
    if (end < text.length) {
      // Prefer to cut at a paragraph, then a sentence, then a word boundary.
      const window = text.slice(start, end);
      const cut = Math.max(window.lastIndexOf('\n\n'), window.lastIndexOf('. '), window.lastIndexOf('\n'));
      const wordCut = window.lastIndexOf(' ');
      const best = cut > maxChars * 0.5 ? cut + 1 : wordCut > maxChars * 0.5 ? wordCut : -1;
      if (best > 0) end = start + best;
    }
    pieces.push(text.slice(start, end).trim());
    if (end >= text.length) break;
    const next = end - overlapChars;
    start = next > start ? next : end;
  }
  return pieces.filter(Boolean);
}

export function chunkDocument(text: string, options: ChunkOptions = {}): TextChunk[] {
  const maxChars = options.maxChars ?? 1200;
  const overlapChars = Math.min(options.overlapChars ?? 150, Math.floor(maxChars / 3));
  const sections: { path: string; lines: string[] }[] = [];
  const headings: string[] = [];
  let current = { path: '', lines: [] as string[] };
  let inFence = false;
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : HEADING.exec(line);
    if (heading) {
      if (current.lines.join('').trim()) sections.push(current);
      const level = heading[1]!.length;
      headings.length = level - 1;
      headings[level - 1] = heading[2]!;
      current = { path: headings.filter(Boolean).join(' > '), lines: [line] };
    } else {
      current.lines.push(line);
    }
  }
  if (current.lines.join('').trim()) sections.push(current);

  const chunks: TextChunk[] = [];
  for (const section of sections) {
    for (const piece of splitBySize(section.lines.join('\n').trim(), maxChars, overlapChars)) {
      chunks.push({ index: chunks.length, section: section.path, text: piece });
    }
  }
  return chunks;
}
