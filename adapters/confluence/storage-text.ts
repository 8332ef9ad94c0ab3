// Confluence's storage format (XHTML with ac: macros and ri: resource identifiers) as readable plain
// text: headings, paragraphs, lists, tables as pipe rows, code macros as fenced blocks, links with
// their targets, page and user references by name, info/note/warning panels labelled, tasks as
// checkboxes. Styling, macro parameters and anything not meant to be read are dropped.

const TOKEN =
  /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>/]+))?)*)\s*(\/?)>|([^<]+)|(<)/g;
const ATTRIBUTE = /([\w:.-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>/]+)))?/g;

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  rsquo: '’',
  lsquo: '‘',
  rdquo: '”',
  ldquo: '“',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  bull: '•',
  middot: '·',
  rarr: '→',
  larr: '←',
  times: '×',
  euro: '€',
  copy: '©',
  reg: '®',
  trade: '™',
  deg: '°',
};

const BLOCKS = new Set([
  'p',
  'div',
  'section',
  'blockquote',
  'pre',
  'table',
  'ul',
  'ol',
  'ac:layout-section',
  'ac:layout-cell',
  'ac:task-list',
]);
const PANELS: Record<string, string> = { info: 'Info', note: 'Note', warning: 'Warning', tip: 'Tip', panel: 'Panel', expand: 'Details' };
/** Elements whose content is not for reading. */
const SKIPPED = new Set(['ac:parameter', 'style', 'script', 'ac:task-id', 'ac:task-uuid', 'ac:task-status', 'ac:placeholder']);

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(ATTRIBUTE)) out[m[1]!.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  return out;
}

interface Frame {
  tag: string;
  /** Text to add when the element closes. */
  close?: string;
  list?: { ordered: boolean; next: number };
  macro?: string;
  /** ac:link: the target's name, used when the link has no body text of its own. */
  linkTarget?: string;
  linkHadBody?: boolean;
  href?: string;
  hrefTextStart?: number;
  /** Its content is not for reading (macro parameters, a table of contents, an image's source). */
  skips?: boolean;
}

/** Plain text of a storage-format body, at most maxChars long (cut on a line when it can). */
export function storageToText(storage: string, maxChars = Number.POSITIVE_INFINITY): { text: string; truncated: boolean } {
  let out = '';
  const stack: Frame[] = [];
  let skipDepth = 0;
  const inside = (tag: string) => stack.some((f) => f.tag === tag);
  const listDepth = () => stack.filter((f) => f.list).length;
  /** Where a list marker or panel label ended: the block that follows starts on its line. */
  let labelEnd = -1;
  const newline = (count = 1) => {
    if (out.length === labelEnd) return;
    out = out.replace(/[ \t]+$/, '');
    const have = /\n*$/.exec(out)![0].length;
    if (out.length > 0 && have < count) out += '\n'.repeat(count - have);
  };

  for (const m of storage.matchAll(TOKEN)) {
    const [, cdata, closing, rawTag, attrText, selfClosing, text, stray] = m;
    if (cdata !== undefined) {
      if (skipDepth === 0) {
        out += cdata;
        if (cdata.trim()) for (const f of stack) if (f.tag === 'ac:link') f.linkHadBody = true;
      }
      continue;
    }
    if (text !== undefined || stray !== undefined) {
      if (skipDepth > 0) continue;
      const raw = decodeEntities(text ?? '<');
      const pre = inside('pre') || inside('code');
      out += pre ? raw : raw.replace(/\s+/g, ' ');
      if (raw.trim()) for (const f of stack) if (f.tag === 'ac:link') f.linkHadBody = true;
      continue;
    }
    if (rawTag === undefined) continue; // a comment
    const tag = rawTag.toLowerCase();
    const attrs = attributes(attrText ?? '');

    if (closing) {
      const index = stack.map((f) => f.tag).lastIndexOf(tag);
      if (index < 0) continue;
      const frames = stack.splice(index);
      for (const frame of frames.reverse()) {
        if (frame.skips) skipDepth -= 1;
        if (frame.tag === 'ac:link' && !frame.linkHadBody && frame.linkTarget) out += frame.linkTarget;
        if (frame.tag === 'a' && frame.href) {
          const label = out.slice(frame.hrefTextStart).trim();
          if (label && label !== frame.href && !frame.href.startsWith('#')) out += ` (${frame.href})`;
          else if (!label) out += frame.href;
        }
        if (frame.close) out += frame.close;
        // Inside a list item, a paragraph or nested list ends a line, not a block.
        if (BLOCKS.has(frame.tag) || /^h[1-6]$/.test(frame.tag)) newline(inside('li') ? 1 : 2);
      }
      continue;
    }

    if (skipDepth > 0) {
      if (!selfClosing) stack.push({ tag });
      continue;
    }

    const frame: Frame = { tag };
    if (SKIPPED.has(tag)) {
      frame.skips = true;
      if (tag === 'ac:task-status') {
        // <ac:task-status>complete</ac:task-status> or incomplete: shown as a checkbox.
        const status = /^\s*(\w+)/.exec(storage.slice(m.index! + m[0].length))?.[1];
        out += status === 'complete' ? '[x] ' : '[ ] ';
      }
    } else if (/^h[1-6]$/.test(tag)) {
      newline(2);
      out += `${'#'.repeat(Number(tag[1]))} `;
    } else if (tag === 'br') out += '\n';
    else if (tag === 'hr') {
      newline(2);
      out += '---';
      newline(2);
    } else if (tag === 'ul' || tag === 'ol') {
      newline(listDepth() === 0 ? 2 : 1);
      frame.list = { ordered: tag === 'ol', next: Number(attrs.start) || 1 };
    } else if (tag === 'li') {
      const list = [...stack].reverse().find((f) => f.list)?.list;
      newline();
      out += `${'  '.repeat(Math.max(0, listDepth() - 1))}${list?.ordered ? `${list.next++}. ` : '- '}`;
      labelEnd = out.length;
    } else if (tag === 'tr') {
      newline();
      frame.close = '|';
    } else if (tag === 'td' || tag === 'th') {
      out += '| ';
      frame.close = ' ';
    } else if (tag === 'ac:task') {
      newline();
    } else if (tag === 'ac:structured-macro' || tag === 'ac:macro') {
      const name = (attrs['ac:name'] ?? '').toLowerCase();
      frame.macro = name;
      if (name === 'code' || name === 'noformat') {
        newline(2);
        out += '```\n';
        frame.close = '\n```';
      } else if (PANELS[name]) {
        newline(2);
        out += `${PANELS[name]}: `;
        labelEnd = out.length;
      } else if (name === 'toc' || name === 'children' || name === 'recently-updated') {
        frame.skips = true;
      }
    } else if (tag === 'ac:link') frame.linkTarget = '';
    else if (tag === 'ri:page' || tag === 'ri:blog-post') {
      const link = [...stack].reverse().find((f) => f.tag === 'ac:link');
      if (link) link.linkTarget = attrs['ri:content-title'] ?? '';
    } else if (tag === 'ri:user') {
      const link = [...stack].reverse().find((f) => f.tag === 'ac:link');
      if (link) link.linkTarget = '@user';
      else out += '@user';
    } else if (tag === 'ri:attachment') {
      const link = [...stack].reverse().find((f) => f.tag === 'ac:link');
      if (link) link.linkTarget = attrs['ri:filename'] ?? 'attachment';
    } else if (tag === 'ri:url') {
      const link = [...stack].reverse().find((f) => f.tag === 'ac:link');
      if (link) link.linkTarget = attrs['ri:value'] ?? '';
    } else if (tag === 'ac:image') {
      out += '[image]';
      frame.skips = true;
    } else if (tag === 'ac:emoticon') {
      out += attrs['ac:emoji-fallback'] ?? '';
    } else if (tag === 'time') {
      out += attrs.datetime ?? '';
    } else if (tag === 'a') {
      frame.href = attrs.href;
      frame.hrefTextStart = out.length;
    } else if (BLOCKS.has(tag)) newline(inside('li') ? 1 : 2);

    if (!selfClosing && tag !== 'br' && tag !== 'hr') {
      stack.push(frame);
      if (frame.skips) skipDepth += 1;
    }
  }

  const text = out
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (text.length <= maxChars) return { text, truncated: false };
  const cut = text.slice(0, maxChars);
  const lastBreak = cut.lastIndexOf('\n');
  return { text: (lastBreak > maxChars * 0.8 ? cut.slice(0, lastBreak) : cut).trimEnd(), truncated: true };
}
