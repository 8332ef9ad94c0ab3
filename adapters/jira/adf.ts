// Atlassian Document Format (ADF), the JSON tree Jira Cloud's REST API v3 uses for descriptions and
// comments, to and from plain text. Reading keeps what a reader needs (paragraphs, headings, lists,
// code, tables, mentions, links) and drops styling; writing makes paragraphs and line breaks.

interface AdfNode {
  type?: string;
  text?: string;
  content?: AdfNode[];
  attrs?: Record<string, unknown>;
  marks?: { type?: string; attrs?: Record<string, unknown> }[];
}

/** Plain text of an ADF document (or of any node); '' for null and for anything that is not ADF. */
export function adfToText(doc: unknown): string {
  if (typeof doc === 'string') return doc;
  if (typeof doc !== 'object' || doc === null) return '';
  return render(doc as AdfNode, '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function children(node: AdfNode, indent: string): string {
  return (node.content ?? []).map((child) => render(child, indent)).join('');
}

function inline(node: AdfNode): string {
  return (node.content ?? []).map((child) => render(child, '')).join('');
}

function render(node: AdfNode, indent: string): string {
  const attrs = node.attrs ?? {};
  switch (node.type) {
    case 'doc':
      return children(node, indent);
    case 'text': {
      const link = node.marks?.find((mark) => mark.type === 'link')?.attrs?.href;
      const text = node.text ?? '';
      const code = node.marks?.some((mark) => mark.type === 'code');
      const shown = code ? `\`${text}\`` : text;
      return typeof link === 'string' && link !== text ? `${shown} (${link})` : shown;
    }
    case 'hardBreak':
      return `\n${indent}`;
    case 'paragraph':
      return `${inline(node)}\n\n`;
    case 'heading':
      return `${'#'.repeat(Number(attrs.level) || 1)} ${inline(node)}\n\n`;
    case 'bulletList':
    case 'orderedList': {
      const start = Number(attrs.order) || 1;
      const items = (node.content ?? []).map((item, index) => {
        const marker = node.type === 'orderedList' ? `${start + index}. ` : '- ';
        const body = children(item, `${indent}  `).trim();
        return `${indent}${marker}${body}\n`;
      });
      return `${items.join('')}\n`;
    }
    case 'taskList':
      return `${(node.content ?? []).map((item) => `${indent}[${item.attrs?.state === 'DONE' ? 'x' : ' '}] ${inline(item).trim()}\n`).join('')}\n`;
    case 'listItem':
      return children(node, indent);
    case 'codeBlock':
      return `\`\`\`${typeof attrs.language === 'string' ? attrs.language : ''}\n${inline(node)}\n\`\`\`\n\n`;
    case 'blockquote':
      return `${children(node, indent)
        .trim()
        .split('\n')
        .map((line) => `> ${line}`)
        .join('\n')}\n\n`;
    case 'panel':
      return `${typeof attrs.panelType === 'string' ? `${attrs.panelType[0]!.toUpperCase()}${attrs.panelType.slice(1)}: ` : ''}${children(node, indent).trim()}\n\n`;
    case 'rule':
      return '---\n\n';
    case 'mention':
      return typeof attrs.text === 'string' ? attrs.text : '@user';
    case 'emoji':
      return typeof attrs.text === 'string' ? attrs.text : typeof attrs.shortName === 'string' ? attrs.shortName : '';
    case 'inlineCard':
    case 'blockCard':
    case 'embedCard':
      return typeof attrs.url === 'string' ? attrs.url : '';
    case 'status':
      return typeof attrs.text === 'string' ? `[${attrs.text}]` : '';
    case 'date':
      return typeof attrs.timestamp === 'string' ? new Date(Number(attrs.timestamp)).toISOString().slice(0, 10) : '';
    case 'table':
      return `${(node.content ?? []).map((row) => `| ${(row.content ?? []).map((cell) => children(cell, '').trim().replace(/\n+/g, ' ')).join(' | ')} |`).join('\n')}\n\n`;
    case 'mediaSingle':
    case 'mediaGroup':
    case 'media':
      return '[attachment]\n\n';
    default:
      // Unknown and future node types: keep their text.
      return node.text ?? children(node, indent);
  }
}

/** A plain-text description as an ADF document: blank lines separate paragraphs, single newlines break lines. */
export function textToAdf(text: string): { type: 'doc'; version: 1; content: unknown[] } {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter(Boolean);
  return {
    type: 'doc',
    version: 1,
    content: paragraphs.map((paragraph) => ({
      type: 'paragraph',
      content: paragraph
        .split('\n')
        .flatMap((line, index) => [...(index > 0 ? [{ type: 'hardBreak' }] : []), ...(line ? [{ type: 'text', text: line }] : [])]),
    })),
  };
}
