// What the GitHub, Jira and Confluence tools share when they write for the model: a bounded text
// that says, when something was left out, how to get the rest or narrow the question.

/** Joins lines until the next would pass maxChars; says how many were left out and how to narrow. */
export function boundedLines(header: string, lines: readonly string[], maxChars: number, narrow: string): { text: string; shown: number } {
  let text = header;
  let shown = 0;
  for (const line of lines) {
    if (text.length + line.length + 1 > maxChars - narrow.length - 40) break;
    text += `\n${line}`;
    shown += 1;
  }
  if (shown < lines.length) text += `\n(${lines.length - shown} more not shown) ${narrow}`;
  return { text, shown };
}

/** Cuts a block of text at maxChars on a line boundary when it can, saying it was cut. */
export function boundedBlock(text: string, maxChars: number, note: string): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  const cut = text.slice(0, maxChars);
  const lastBreak = cut.lastIndexOf('\n');
  return {
    text: `${lastBreak > maxChars * 0.8 ? cut.slice(0, lastBreak) : cut}\n[… cut at ${maxChars} characters: ${note}]`,
    truncated: true,
  };
}

/** YYYY-MM-DD of an ISO timestamp, or the text itself when it is not one. */
export function day(iso: string | null | undefined): string {
  if (!iso) return '?';
  return /^\d{4}-\d{2}-\d{2}/.test(iso) ? iso.slice(0, 10) : iso;
}
