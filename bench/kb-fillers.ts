import type { IndexedChunk } from '../adapters/knowledge/lexical-index.js';

// Generated filler chunks for the retrieval benchmarks: team notes in ops vocabulary, the same on
// every run, that compete with the runbooks for every question.

/** Deterministic pseudo-random generator, so every run indexes the same filler text. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCABULARY = (
  'service deploy pipeline release cluster node host server database replica backup restore migration schema index query latency ' +
  'throughput request response error warning timeout retry queue worker job cron schedule ticket change approval rollout canary ' +
  'dashboard metric alert threshold capacity budget cost region zone network subnet firewall gateway proxy balancer certificate ' +
  'storage volume bucket object cache session token user account permission role policy audit compliance incident postmortem ' +
  'runbook oncall escalation owner team sprint roadmap architecture diagram dependency upstream downstream api client sdk ' +
  'config parameter flag feature toggle memory cpu disk log trace span sample'
).split(' ');

export function fillerChunks(count: number): IndexedChunk[] {
  const random = mulberry32(42);
  const word = () => VOCABULARY[Math.floor(random() * VOCABULARY.length)]!;
  return Array.from({ length: count }, (_, i) => {
    const sentences = Array.from({ length: 6 + Math.floor(random() * 6) }, () =>
      Array.from({ length: 8 + Math.floor(random() * 8) }, word).join(' '),
    );
    return {
      id: `filler-${i}`,
      docId: `filler-doc-${Math.floor(i / 4)}`,
      tenantId: null,
      kind: 'doc',
      title: `Team notes ${Math.floor(i / 4)}: ${word()} ${word()}`,
      section: `${word()} ${word()}`,
      text: `${sentences.join('. ')}.`,
    };
  });
}
