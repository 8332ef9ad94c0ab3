import { loadRunbooks, runbookToMarkdown } from '../adapters/knowledge/runbook-files.js';
import { LexicalIndex, type IndexedChunk } from '../adapters/knowledge/lexical-index.js';
import { chunkDocument } from '../core/chunking.js';
import { classify } from '../core/planner.js';
import { KB_QUESTIONS } from './kb-questions.js';
import { machineDescription, median, round, writeReport } from './lib.js';
import { fillerChunks } from './kb-fillers.js';

// `npm run bench:kb`: retrieval quality and latency of the embedded knowledge index over the
// bundled runbooks plus generated filler chunks, against the planner's pattern classifier (recall
// baseline) and the same index without fillers (latency baseline), all in one run.

const FILLER_CHUNKS = Number(process.env.BENCH_KB_FILLERS ?? 3000);
const REPEATS = Number(process.env.BENCH_KB_REPEATS ?? 20);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const runbooks = await loadRunbooks();
  const runbookChunks: IndexedChunk[] = runbooks.flatMap((runbook) =>
    chunkDocument(runbookToMarkdown(runbook)).map((chunk) => ({
      id: `${runbook.id}#${chunk.index}`,
      docId: runbook.id,
      tenantId: null,
      kind: 'runbook',
      title: runbook.title,
      section: chunk.section,
      text: chunk.text,
    })),
  );

  const measure = (index: LexicalIndex) => {
    let hit1 = 0;
    let hit3 = 0;
    const latencies: number[] = [];
    for (const { question, runbook } of KB_QUESTIONS) {
      const ids = index.query(question, { tenantId: null, k: 3 }).map((hit) => hit.chunk.docId);
      if (ids[0] === runbook) hit1 += 1;
      if (ids.includes(runbook)) hit3 += 1;
      for (let r = 0; r < REPEATS; r += 1) {
        const started = performance.now();
        index.query(question, { tenantId: null, k: 3 });
        latencies.push(performance.now() - started);
      }
    }
    return {
      recallAt1: round(hit1 / KB_QUESTIONS.length, 3),
      recallAt3: round(hit3 / KB_QUESTIONS.length, 3),
      p50Ms: round(median(latencies), 3),
      p99Ms: round(percentile(latencies, 99), 3),
    };
  };

  const bare = new LexicalIndex();
  bare.add(runbookChunks);
  const full = new LexicalIndex();
  const fillers = fillerChunks(FILLER_CHUNKS);
  const buildStarted = performance.now();
  full.add([...runbookChunks, ...fillers]);
  const buildMs = performance.now() - buildStarted;

  const runbooksOnly = measure(bare);
  const withFillers = measure(full);

  let classifier1 = 0;
  let classifier3 = 0;
  for (const { question, runbook } of KB_QUESTIONS) {
    const ids = classify(question, runbooks).map((m) => m.runbookId);
    if (ids[0] === runbook) classifier1 += 1;
    if (ids.slice(0, 3).includes(runbook)) classifier3 += 1;
  }
  const classifier = { recallAt1: round(classifier1 / KB_QUESTIONS.length, 3), recallAt3: round(classifier3 / KB_QUESTIONS.length, 3) };

  const summary = {
    machine: machineDescription(),
    measuredAt: new Date().toISOString(),
    questions: KB_QUESTIONS.length,
    runbookChunks: runbookChunks.length,
    fillerChunks: fillers.length,
    indexBuildMs: round(buildMs, 1),
    lexicalWithFillers: withFillers,
    lexicalRunbooksOnly: runbooksOnly,
    plannerClassifier: classifier,
  };
  await writeReport(
    'kb',
    summary,
    [
      {
        title: `Runbook retrieval, ${KB_QUESTIONS.length} operator questions (query latency: median and p99 of ${REPEATS} runs each)`,
        columns: ['retriever', 'chunks indexed', 'recall@1', 'recall@3', 'p50 (ms)', 'p99 (ms)'],
        rows: [
          ['planner classifier (patterns + keywords, baseline)', '—', classifier.recallAt1, classifier.recallAt3, '—', '—'],
          [
            'lexical index (MiniSearch BM25+), runbooks only',
            runbookChunks.length,
            runbooksOnly.recallAt1,
            runbooksOnly.recallAt3,
            runbooksOnly.p50Ms,
            runbooksOnly.p99Ms,
          ],
          [
            `lexical index, runbooks + ${fillers.length} filler chunks`,
            runbookChunks.length + fillers.length,
            withFillers.recallAt1,
            withFillers.recallAt3,
            withFillers.p50Ms,
            withFillers.p99Ms,
          ],
        ],
      },
    ],
    [
      `Latency with fillers vs runbooks only: ${round(withFillers.p50Ms / Math.max(runbooksOnly.p50Ms, 0.001), 2)}× at p50. Index build for ${runbookChunks.length + fillers.length} chunks: ${round(buildMs, 0)} ms.`,
      `Machine: ${summary.machine}. Measured ${summary.measuredAt} by \`npm run bench:kb\`.`,
    ],
  );
}

await main();
