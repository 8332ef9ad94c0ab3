import { describe, expect, it } from 'vitest';
import { storageToText } from '../../adapters/confluence/storage-text.js';
import { adfToText, textToAdf } from '../../adapters/jira/adf.js';

// Jira's Atlassian Document Format and Confluence's storage XHTML as the plain text the chat model
// reads, and a plain-text description as the ADF Jira accepts.

describe('ADF to text and back', () => {
  it('renders tables, ordered lists from their start, tasks, status, panels, inline code and unknown nodes', () => {
    const doc = {
      type: 'doc',
      version: 1,
      content: [
        {
          type: 'orderedList',
          attrs: { order: 3 },
          content: [{ type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'third' }] }] }],
        },
        {
          type: 'table',
          content: [
            {
              type: 'tableRow',
              content: ['Host', 'State'].map((text) => ({
                type: 'tableHeader',
                content: [{ type: 'paragraph', content: [{ type: 'text', text }] }],
              })),
            },
            {
              type: 'tableRow',
              content: ['db-1', 'down'].map((text) => ({
                type: 'tableCell',
                content: [{ type: 'paragraph', content: [{ type: 'text', text }] }],
              })),
            },
          ],
        },
        { type: 'taskList', content: [{ type: 'taskItem', attrs: { state: 'DONE' }, content: [{ type: 'text', text: 'restart' }] }] },
        {
          type: 'panel',
          attrs: { panelType: 'warning' },
          content: [{ type: 'paragraph', content: [{ type: 'text', text: 'prod only' }] }],
        },
        {
          type: 'paragraph',
          content: [
            { type: 'status', attrs: { text: 'BLOCKED' } },
            { type: 'text', text: ' run ' },
            { type: 'text', text: 'df -h', marks: [{ type: 'code' }] },
            { type: 'futureInline', content: [{ type: 'text', text: ' (kept)' }] },
          ],
        },
      ],
    };
    expect(adfToText(doc)).toBe(
      [
        '3. third',
        '',
        '| Host | State |',
        '| db-1 | down |',
        '',
        '[x] restart',
        '',
        'Warning: prod only',
        '',
        '[BLOCKED] run `df -h` (kept)',
      ].join('\n'),
    );
    expect(adfToText(null)).toBe('');
    expect(adfToText('already text')).toBe('already text');
  });

  it('writes paragraphs and line breaks, and reads them back', () => {
    const text = 'First line\nsecond line\n\n\nNew paragraph';
    const doc = textToAdf(text);
    expect(doc.content).toHaveLength(2);
    expect(adfToText(doc)).toBe('First line\nsecond line\n\nNew paragraph');
    expect(textToAdf('')).toEqual({ type: 'doc', version: 1, content: [] });
  });
});

describe('Confluence storage to text', () => {
  it('decodes entities, drops macro parameters and tables of contents, keeps link targets and CDATA as is', () => {
    const storage =
      '<p>A&amp;B &lt;ok&gt; &#8594; &#x2713; &unknown; caf&eacute;</p>' +
      '<ac:structured-macro ac:name="toc"><ac:parameter ac:name="maxLevel">2</ac:parameter></ac:structured-macro>' +
      '<p><ac:link><ri:page ri:content-title="Escalation policy" /><ac:plain-text-link-body><![CDATA[who to call]]></ac:plain-text-link-body></ac:link></p>' +
      '<p><a href="#anchor">jump</a> <a href="https://x.example">https://x.example</a></p>' +
      '<pre>  indented\n    code</pre>';
    expect(storageToText(storage).text).toBe(
      ['A&B <ok> → ✓ &unknown; caf&eacute;', '', 'who to call', '', 'jump https://x.example', '', '  indented\n    code'].join('\n'),
    );
  });

  it('cuts on a line boundary and says it did', () => {
    const storage = Array.from({ length: 50 }, (_, i) => `<p>Line ${i} of the runbook.</p>`).join('');
    const { text, truncated } = storageToText(storage, 200);
    expect(truncated).toBe(true);
    expect(text.length).toBeLessThanOrEqual(200);
    expect(text.endsWith('of the runbook.')).toBe(true);
    expect(storageToText(storage).truncated).toBe(false);
  });
});
