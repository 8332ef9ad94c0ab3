import { isMap, isScalar, parseAllDocuments, visit } from 'yaml';
import type { AddFinding } from './validate-envelope.js';

// The playbook's YAML as ansible would read it (YAML 1.1, one document), refused when it holds what
// could make our reading differ from PyYAML's: duplicate keys, anchors and aliases, merge keys, tags.

const MAX_PLAYBOOK = 512 * 1024;

const yamlMessage = (error: { message: string; linePos?: [{ line: number }, ...unknown[]] | undefined }) =>
  `line ${error.linePos?.[0].line ?? '?'}: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;

export function parsePlaybook(text: string, add: AddFinding): unknown[] | null {
  if (text.length > MAX_PLAYBOOK) return (add('yaml', null, `the playbook is larger than ${MAX_PLAYBOOK / 1024} KiB`), null);
  // The lint is part of validation: a playbook may not switch its rules off.
  if (/#\s*noqa\b/i.test(text)) add('ansible-lint', null, 'noqa comments switch lint rules off; they are not accepted');
  if (/\bskip_ansible_lint\b/.test(text)) add('ansible-lint', null, 'the skip_ansible_lint tag switches lint off; it is not accepted');
  const docs = parseAllDocuments(text, { version: '1.1', uniqueKeys: true, merge: false, prettyErrors: true });
  if (!Array.isArray(docs)) return (add('yaml', null, 'the playbook is empty'), null);
  if (docs.length !== 1) return (add('yaml', null, `the playbook must be one YAML document, not ${docs.length}`), null);
  const doc = docs[0]!;
  for (const error of doc.errors) add('yaml', null, yamlMessage(error));
  for (const warning of doc.warnings) add('yaml', null, yamlMessage(warning));
  if (doc.errors.length > 0) return null;
  let refused = false;
  visit(doc, {
    Alias: () => void (refused = true),
    Node: (_key, node) => {
      if (('anchor' in node && node.anchor) || (node.tag && node.tag !== '!unsafe' && !node.tag.startsWith('tag:yaml.org,2002:')))
        refused = true;
      if (isMap(node))
        for (const pair of node.items)
          if (isScalar(pair.key) && (pair.key.source === '<<' || pair.key.value === '<<' || typeof pair.key.value === 'symbol'))
            refused = true;
    },
  });
  if (refused) return (add('yaml', null, 'anchors, aliases, merge keys and custom tags (other than !unsafe) are not accepted'), null);
  const plays: unknown = doc.toJS({ maxAliasCount: 0 });
  if (!Array.isArray(plays) || plays.length === 0) return (add('yaml', null, 'a playbook is a non-empty list of plays'), null);
  return plays;
}
