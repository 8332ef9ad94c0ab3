import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { grammarStats, renderGrammarDoc } from '../core/command-policy/docs.js';

// npm run docs:policy: writes docs/command-grammar.md from the command policy's grammar table.
const target = fileURLToPath(new URL('../docs/command-grammar.md', import.meta.url));
writeFileSync(target, renderGrammarDoc());
const stats = grammarStats();
console.log(`wrote ${target}: ${stats.commands} commands (${stats.entries} entries), ${stats.options} options, ${stats.wrappers} wrappers`);
