import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grammarStats, renderGrammarDoc } from '../../core/command-policy/docs.js';

describe('docs/command-grammar.md', () => {
  it('is generated from the grammar table (run npm run docs:policy when this fails)', () => {
    const file = readFileSync(new URL('../../docs/command-grammar.md', import.meta.url), 'utf8');
    expect(file).toBe(renderGrammarDoc());
  });

  it('lists every read-only command', () => {
    const doc = renderGrammarDoc();
    for (const name of ['cat', 'grep', 'find', 'awk', 'sed', 'systemctl', 'kubectl', 'curl', 'printenv', 'ip'])
      expect(doc).toContain(`\`${name}\``);
    expect(grammarStats().commands).toBeGreaterThan(100);
  });
});
