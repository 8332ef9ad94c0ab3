import { isMap, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';

// Ties a line of the playbook (from ansible-playbook's or ansible-lint's output) to its task, named
// as validation names tasks: `play[0].tasks[2] (Install nginx)`, `play[0].tasks[1].block[0]`.

interface Located {
  label: string;
  from: number;
  to: number;
}

const TASK_LISTS = ['pre_tasks', 'tasks', 'post_tasks', 'handlers'];
const BLOCK_LISTS = ['block', 'rescue', 'always'];

/** The innermost task (or play) containing a 1-based line; null when none does. */
export function taskAtLine(playbook: string, line: number): string | null {
  const counter = new LineCounter();
  const doc = parseDocument(playbook, { version: '1.1', lineCounter: counter, keepSourceTokens: false });
  if (doc.errors.length > 0 || !isSeq(doc.contents)) return null;
  const located: Located[] = [];
  const lineOf = (offset: number) => counter.linePos(offset).line;
  const add = (node: Node, label: string) => {
    if (!node.range) return;
    const name = isMap(node) ? node.get('name') : undefined;
    located.push({
      label: typeof name === 'string' ? `${label} (${name})` : label,
      from: lineOf(node.range[0]),
      to: lineOf(Math.max(node.range[0], node.range[1] - 1)),
    });
  };
  const walk = (map: YAMLMap, label: string, lists: string[]) => {
    for (const key of lists) {
      const list = map.get(key, true);
      if (!isSeq(list)) continue;
      list.items.forEach((item, j) => {
        if (!isMap(item)) return;
        const at = `${label}.${key}[${j}]`;
        add(item, at);
        walk(item, at, BLOCK_LISTS);
      });
    }
  };
  doc.contents.items.forEach((play, i) => {
    if (!isMap(play)) return;
    add(play, `play[${i}]`);
    walk(play, `play[${i}]`, TASK_LISTS);
  });
  const containing = located.filter((l) => l.from <= line && line <= l.to);
  // Innermost: the one that starts last (nested entries start after their parents).
  return containing.sort((a, b) => b.from - a.from || a.to - b.to)[0]?.label ?? null;
}
