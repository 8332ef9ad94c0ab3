import { Pinecone, type Index } from '@pinecone-database/pinecone';
import type { KnowledgeKind } from '../store/port.js';
import { VectorIndexError, type VectorIndex, type VectorMatch, type VectorQuery, type VectorRecord } from './port.js';

// The Pinecone adapter for the VectorIndex port. This is the only module that imports the Pinecone
// SDK: everything else sees VectorIndex and VectorIndexError.
//
// Layout in the index: one vector per chunk, id = chunkId (`${docId}#${n}`), metadata
// { docId, tenantId, kind }. Pinecone metadata cannot hold null, so global documents are stored
// with tenantId GLOBAL_TENANT and every query asks for `tenantId $in [asker, GLOBAL_TENANT]`.
//
// Hosts: the SDK only prefixes `https://` when a host has no scheme (a bare
// `my-index-abc.svc.pinecone.io`, as describeIndex returns it); a host given with an explicit
// `http://` scheme is used as is, for both `indexHost` (data plane) and `controllerHostUrl`
// (control plane). That is the supported way to point the adapter at a local plain-HTTP server
// such as the tests' protocol server: `indexHost: 'http://127.0.0.1:PORT'` (no fetch override
// needed). The SDK's `fetchApi` option exists too but is not needed for that.

/** The tenantId stored for global documents (Pinecone metadata has no null). */
export const GLOBAL_TENANT = '__global__';
/** Pinecone's recommended upsert batch size (the hard limit is 1,000 records / 2 MB a request). */
export const UPSERT_BATCH = 100;
/** Pinecone's limit on ids per delete request. */
export const DELETE_BATCH = 1_000;
/** Pinecone's largest topK. */
const MAX_TOP_K = 10_000;

type ChunkMetadata = { docId: string; tenantId: string; kind: KnowledgeKind };

export interface PineconeVectorIndexOptions {
  apiKey: string;
  indexName: string;
  /** The index's data-plane host. Given, no control-plane describeIndex call is made. */
  indexHost?: string | undefined;
  /** Defaults to Pinecone's default namespace. */
  namespace?: string | undefined;
  /** The control-plane URL (default https://api.pinecone.io); only used when indexHost is absent. */
  controllerHostUrl?: string | undefined;
  /** Retries of 5xx answers inside the SDK (exponential backoff), default 3 as in the SDK. */
  maxRetries?: number | undefined;
}

export class PineconeVectorIndex implements VectorIndex {
  readonly name = 'pinecone';

  constructor(
    private readonly index: Index<ChunkMetadata>,
    private readonly apiKey: string,
  ) {}

  async upsert(records: readonly VectorRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += UPSERT_BATCH) {
      const batch = records.slice(start, start + UPSERT_BATCH).map((record) => ({
        id: record.chunkId,
        values: [...record.values],
        metadata: { docId: record.docId, tenantId: record.tenantId ?? GLOBAL_TENANT, kind: record.kind },
      }));
      await this.call('upsert', () => this.index.upsert({ records: batch }));
    }
  }

  async query(vector: readonly number[], query: VectorQuery): Promise<VectorMatch[]> {
    const topK = Math.min(Math.floor(query.topK), MAX_TOP_K);
    // Nothing can match: answer without a request (Pinecone rejects topK < 1 and an empty $in).
    if (!(topK >= 1) || (query.kinds && query.kinds.length === 0)) return [];
    const tenants = [...new Set([query.tenantId ?? GLOBAL_TENANT, GLOBAL_TENANT])];
    const filter: Record<string, unknown> = { tenantId: { $in: tenants } };
    if (query.kinds) filter.kind = { $in: [...query.kinds] };
    const response = await this.call('query', () =>
      this.index.query({ vector: [...vector], topK, filter, includeMetadata: true, includeValues: false }),
    );
    const seen = new Set<string>();
    const matches: VectorMatch[] = [];
    for (const match of response.matches) {
      if (seen.has(match.id)) continue;
      seen.add(match.id);
      matches.push({ chunkId: match.id, docId: match.metadata?.docId ?? docIdOf(match.id), score: match.score ?? 0 });
    }
    return matches.sort((a, b) => b.score - a.score).slice(0, topK);
  }

  async deleteDocument(docId: string): Promise<void> {
    // Chunk ids are `${docId}#<n>`: the trailing '#' keeps `doc1` from matching `doc10#…`.
    const ids: string[] = [];
    let paginationToken: string | undefined;
    do {
      const token = paginationToken;
      const page = await this.call('deleteDocument', () =>
        this.index.listPaginated({ prefix: `${docId}#`, ...(token ? { paginationToken: token } : {}) }),
      );
      for (const item of page.vectors ?? []) if (item.id) ids.push(item.id);
      paginationToken = page.pagination?.next || undefined;
    } while (paginationToken);
    for (let start = 0; start < ids.length; start += DELETE_BATCH) {
      const batch = ids.slice(start, start + DELETE_BATCH);
      await this.call('deleteDocument', () => this.index.deleteMany({ ids: batch }));
    }
  }

  /** Removes every vector in this adapter's namespace (tests and full re-indexing); a missing namespace is fine. */
  async clear(): Promise<void> {
    try {
      await this.call('clear', () => this.index.deleteAll());
    } catch (err) {
      if (err instanceof VectorIndexError && err.status === 404) return;
      throw err;
    }
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw toVectorIndexError(err, operation, this.apiKey);
    }
  }
}

/**
 * Opens the adapter. With `indexHost` it makes no request; without, it resolves the index's host
 * once through the control plane (describeIndex), so a wrong key or index name fails here.
 */
export async function openPineconeVectorIndex(options: PineconeVectorIndexOptions): Promise<PineconeVectorIndex> {
  const { apiKey, indexName } = options;
  if (!apiKey) throw new VectorIndexError('pinecone: an API key is required', { backend: 'pinecone', operation: 'open', retryable: false });
  if (!indexName && !options.indexHost) {
    throw new VectorIndexError('pinecone: an index name or host is required', { backend: 'pinecone', operation: 'open', retryable: false });
  }
  const client = new Pinecone({
    apiKey,
    ...(options.controllerHostUrl ? { controllerHostUrl: options.controllerHostUrl } : {}),
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
  });
  let host = options.indexHost;
  if (!host) {
    try {
      host = (await client.describeIndex(indexName)).host;
    } catch (err) {
      throw toVectorIndexError(err, 'open', apiKey);
    }
  }
  const index = client.index<ChunkMetadata>({ name: indexName, host, ...(options.namespace ? { namespace: options.namespace } : {}) });
  return new PineconeVectorIndex(index, apiKey);
}

const docIdOf = (chunkId: string): string => {
  const hash = chunkId.lastIndexOf('#');
  return hash < 0 ? chunkId : chunkId.slice(0, hash);
};

/** The SDK's error classes by name, with the HTTP status each stands for. */
const STATUS_BY_ERROR: Record<string, number> = {
  PineconeBadRequestError: 400, // also 403
  PineconeAuthorizationError: 401,
  PineconeNotFoundError: 404,
  PineconeMethodNotAllowedError: 405,
  PineconeConflictError: 409,
  PineconeUnprocessableEntityError: 422,
  PineconeInternalServerError: 500,
  PineconeNotImplementedError: 501,
  PineconeUnavailableError: 503,
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Maps whatever the SDK threw to a VectorIndexError. The SDK's errors carry no status field, only
 * a class name (and, for statuses it has no class for, such as 429 or 502, "Status: N" in the
 * message). 5xx answers have already been retried inside the SDK (maxRetries) when they arrive here
 * as PineconeMaxRetriesExceededError. 501 (feature not on this plan) is not worth retrying.
 */
export function toVectorIndexError(err: unknown, operation: string, apiKey: string): VectorIndexError {
  if (err instanceof VectorIndexError) return err;
  const name = err instanceof Error ? err.name : typeof err;
  const raw = err instanceof Error ? err.message : String(err);
  let status: number | undefined = STATUS_BY_ERROR[name];
  let retryable: boolean;
  let reason: string;
  if (name === 'PineconeMaxRetriesExceededError') {
    retryable = true;
    reason = 'server errors persisted after retries';
  } else if (name === 'PineconeConnectionError' || isNetworkError(err)) {
    retryable = true;
    reason = 'the request did not reach Pinecone';
  } else {
    if (status === undefined && name === 'PineconeUnmappedHttpError') {
      const found = /Status: (\d{3})/.exec(raw);
      if (found) status = Number(found[1]);
    }
    retryable = status !== undefined && (status === 429 || (status >= 500 && status !== 501));
    reason =
      status === 401
        ? 'the API key was rejected'
        : status === 429
          ? 'rate limited'
          : status === undefined
            ? 'the SDK rejected the call'
            : status >= 500
              ? 'server error'
              : 'the request was rejected';
  }
  const detail = redact(raw, apiKey);
  return new VectorIndexError(
    `pinecone ${operation} failed: ${reason}${status !== undefined ? ` (HTTP ${status})` : ''} [${name}] ${detail}`.trim(),
    {
      backend: 'pinecone',
      operation,
      retryable,
      status,
    },
  );
}

function isNetworkError(err: unknown): boolean {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  }
  return false;
}

function redact(text: string, apiKey: string): string {
  const short = text.length > 500 ? `${text.slice(0, 500)}…` : text;
  return apiKey ? short.split(apiKey).join('***') : short;
}
