import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { KNOWLEDGE_KINDS, KNOWLEDGE_STATUSES, type KnowledgeDocument, type Store } from '../../adapters/store/port.js';
import type { KnowledgeBase, KnowledgeInput, StagedIngestion } from '../../adapters/knowledge/port.js';
import { ingestionWorkflowId } from '../../core/contracts/knowledge-ingestion.js';
import type { IngestionGateway } from '../temporal-gateway.js';
import { documentType, UnsupportedDocumentError } from '../../adapters/knowledge/port.js';
import { notFound, ProblemError } from '../problem.js';
import { text } from '../schemas.js';
import { apiRoute, createRouter, jsonBody, jsonResponse, unstorableText } from '../validation.js';

const tags = ['Knowledge'];

const DocumentSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    kind: z.enum(KNOWLEDGE_KINDS),
    source: z.string(),
    contentType: z.string(),
    sizeBytes: z.number().int(),
    chunkCount: z.number().int().openapi({ description: 'Chunks of the document (0 until a large document has been chunked)' }),
    chunksIndexed: z.number().int(),
    status: z
      .enum(KNOWLEDGE_STATUSES)
      .openapi({ description: '`ingesting` while the ingestion workflow runs; only `ready` documents are searched' }),
    progress: z.number().min(0).max(1).openapi({ description: 'Share of chunks indexed (1 when ready)' }),
    error: z.string().nullable(),
    ingestionWorkflowId: z
      .string()
      .nullable()
      .openapi({ description: 'The Temporal workflow ingesting a large document (while ingesting, and after a failure)' }),
    global: z.boolean(),
    createdAt: z.string(),
  })
  .openapi('KnowledgeDocument');

const AsyncQuery = z
  .object({
    async: z.enum(['true', 'false']).optional().openapi({
      description:
        'Force (true) or forbid (false) ingestion by workflow; by default documents larger than the inline limit go through the workflow',
    }),
  })
  .strict();

const IngestSchema = z
  .object({
    title: text({ min: 1, max: 300, trim: true }),
    text: text({ min: 1, max: 2_000_000 }),
    kind: z.enum(['sop', 'runbook', 'doc']).default('sop'),
    source: text({ min: 1, max: 500, trim: true }).optional(),
    contentType: z.enum(['text/plain', 'text/markdown']).default('text/markdown'),
  })
  .strict()
  .openapi('KnowledgeIngest');

const UploadSchema = z
  .object({
    file: z
      .custom<File>((value) => value instanceof File, 'a file is required')
      .openapi({ type: 'string', format: 'binary', description: 'A .md, .txt or .pdf file' }),
    title: text({ min: 1, max: 300, trim: true }).optional(),
    kind: z.enum(['sop', 'runbook', 'doc']).default('sop'),
  })
  .strict()
  .openapi('KnowledgeUpload');

const ArchitectureSchema = IngestSchema.omit({ kind: true }).strict().openapi('ArchitectureIngest');

const HitSchema = z
  .object({
    docId: z.string(),
    chunkId: z.string(),
    title: z.string(),
    section: z.string(),
    kind: z.string(),
    text: z.string(),
    score: z.number(),
    global: z.boolean(),
  })
  .openapi('KnowledgeHit');

// Document ids are uuids; any other id names nothing and answers 404.
const DocIdParam = z.object({ docId: z.string().openapi({ param: { name: 'docId', in: 'path' }, format: 'uuid' }) });

const toResponse = (doc: KnowledgeDocument) => ({
  id: doc.id,
  title: doc.title,
  kind: doc.kind,
  source: doc.source,
  contentType: doc.contentType,
  sizeBytes: doc.sizeBytes,
  chunkCount: doc.chunkCount,
  chunksIndexed: doc.chunksIndexed,
  status: doc.status,
  progress: doc.status === 'ready' ? 1 : doc.chunkCount > 0 ? Math.round((doc.chunksIndexed / doc.chunkCount) * 1000) / 1000 : 0,
  error: doc.error,
  // Staged documents name the workflow to follow (Temporal UI) while it runs and after it failed.
  ingestionWorkflowId: doc.status === 'ready' ? null : ingestionWorkflowId(doc.id),
  global: doc.tenantId === null,
  createdAt: doc.createdAt,
});

export interface KnowledgeRouteDeps {
  store: Store;
  knowledge: KnowledgeBase & Pick<StagedIngestion, 'stage' | 'fail'>;
  ingestion: IngestionGateway;
  /** Documents with more text than this go through the ingestion workflow. */
  inlineLimitBytes: number;
}

/** SOPs, runbooks and architecture notes: ingest (chunked and indexed), search, list, delete. */
export function knowledgeRoutes({ store, knowledge, ingestion, inlineLimitBytes }: KnowledgeRouteDeps) {
  const app = createRouter();

  /**
   * Small documents are chunked and indexed in the request (201). Large ones are staged and handed
   * to the ingestion workflow (202, Location to poll); the same content again answers 200 with the
   * stored document.
   */
  async function ingest(c: Context, input: KnowledgeInput, asyncFlag: 'true' | 'false' | undefined) {
    const useWorkflow = asyncFlag === 'true' || (asyncFlag !== 'false' && Buffer.byteLength(input.text) > inlineLimitBytes);
    if (!useWorkflow) {
      const { document, created } = await knowledge.ingest(input);
      return c.json(toResponse(document), created ? 201 : 200);
    }
    const { document, created } = await knowledge.stage(input);
    if (document.status !== 'ingesting') return c.json(toResponse(document), 200);
    const ref = { docId: document.id, tenantId: document.tenantId };
    try {
      await ingestion.start(ref);
    } catch (err) {
      // Without its workflow the staged document would wait forever: record why and let the client retry.
      if (created) await knowledge.fail(ref, 'the workflow engine could not be reached to start ingestion; upload the document again');
      throw err;
    }
    c.header('Location', `/api/v1/knowledge/docs/${document.id}`);
    return c.json(toResponse(document), 202);
  }

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/',
      operationId: 'addKnowledgeDocument',
      tags,
      summary:
        'Add a document (SOP, runbook, note) to the tenant’s knowledge base: JSON text, or a multipart upload of a .md, .txt or .pdf file',
      request: {
        query: AsyncQuery,
        body: {
          content: { 'application/json': { schema: IngestSchema }, 'multipart/form-data': { schema: UploadSchema } },
          // Not `required`: the library would then run both validators; each runs for its own Content-Type.
          required: false,
        },
      },
      responses: {
        201: jsonResponse(DocumentSchema, 'Ingested'),
        202: jsonResponse(DocumentSchema, 'Large document: the ingestion workflow indexes it; poll the Location for progress'),
        200: jsonResponse(DocumentSchema, 'The same content was already ingested'),
      },
    }),
    async (c) => {
      const tenantId = c.get('principal').tenantId;
      const contentType = (c.req.header('content-type') ?? '').toLowerCase();
      if (!contentType.startsWith('multipart/form-data') && !/^application\/(?:[\w.+-]+\+)?json/.test(contentType)) {
        throw new ProblemError(415, 'unsupported-media-type', 'Send JSON ({title, text}) or a multipart/form-data upload with a file.');
      }
      let input: { title: string; kind: 'sop' | 'runbook' | 'doc'; source: string; contentType: string; text: string };
      if (contentType.startsWith('multipart/form-data')) {
        // Which validator ran follows the Content-Type, so each branch reads its own shape.
        const form = c.req.valid('form') as z.infer<typeof UploadSchema>;
        const file = form.file;
        try {
          const type = documentType(file.type, file.name);
          const text = await knowledge.extractText(new Uint8Array(await file.arrayBuffer()), type);
          if (!text.trim()) throw new UnsupportedDocumentError('The document has no text to index (a scanned PDF needs OCR first).');
          if (unstorableText(text).length > 0)
            throw new UnsupportedDocumentError('The document’s text has NUL characters; it is not a text document.');
          input = { title: form.title ?? file.name.replace(/\.[^.]+$/, ''), kind: form.kind, source: file.name, contentType: type, text };
        } catch (err) {
          if (err instanceof UnsupportedDocumentError) throw new ProblemError(415, 'unsupported-media-type', err.message);
          throw err;
        }
      } else {
        const body = c.req.valid('json') as z.infer<typeof IngestSchema>;
        input = { title: body.title, kind: body.kind, source: body.source ?? body.title, contentType: body.contentType, text: body.text };
      }
      return ingest(c, { tenantId, ...input }, c.req.valid('query').async);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'post',
        path: '/architecture',
        operationId: 'addArchitectureDocument',
        tags,
        summary: 'Add a global architecture document, visible to every tenant (admin)',
        request: { query: AsyncQuery, body: jsonBody(ArchitectureSchema) },
        responses: {
          201: jsonResponse(DocumentSchema, 'Ingested'),
          202: jsonResponse(DocumentSchema, 'Large document: the ingestion workflow indexes it; poll the Location for progress'),
          200: jsonResponse(DocumentSchema, 'The same content was already ingested'),
        },
      },
      [403],
    ),
    async (c) => {
      const body = c.req.valid('json');
      const input = {
        tenantId: null,
        title: body.title,
        kind: 'architecture' as const,
        source: body.source ?? body.title,
        contentType: body.contentType,
        text: body.text,
      };
      return ingest(c, input, c.req.valid('query').async);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/search',
      operationId: 'searchKnowledge',
      tags,
      summary: 'Search the tenant’s documents and the global ones',
      request: {
        query: z
          .object({
            q: text({ min: 1, max: 1000, trim: true }),
            k: z.coerce.number().int().min(1).max(50).default(5),
            kind: z.enum(KNOWLEDGE_KINDS).optional(),
          })
          .strict(),
      },
      responses: {
        200: jsonResponse(z.object({ items: z.array(HitSchema) }), 'Best chunks, at most one per document'),
      },
    }),
    async (c) => {
      const { q, k, kind } = c.req.valid('query');
      const items = await knowledge.search(c.get('principal').tenantId, q, { k, ...(kind ? { kinds: [kind] } : {}) });
      return c.json({ items }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/docs',
      operationId: 'listKnowledgeDocuments',
      tags,
      summary: 'List the tenant’s documents (and the global ones)',
      responses: { 200: jsonResponse(z.object({ items: z.array(DocumentSchema) }), 'Documents') },
    }),
    async (c) =>
      c.json({ items: (await store.knowledge.listDocuments(c.get('principal').tenantId, { includeGlobal: true })).map(toResponse) }, 200),
  );

  app.openapi(
    apiRoute(
      {
        method: 'get',
        path: '/docs/{docId}',
        operationId: 'getKnowledgeDocument',
        tags,
        summary: 'One document with its ingestion status and progress (poll this after a 202)',
        request: { params: DocIdParam },
        responses: { 200: jsonResponse(DocumentSchema, 'The document') },
      },
      [404],
    ),
    async (c) => {
      const { docId } = c.req.valid('param');
      const tenantId = c.get('principal').tenantId;
      const document = (await store.knowledge.getDocument(tenantId, docId)) ?? (await store.knowledge.getDocument(null, docId));
      if (!document) throw notFound(`Knowledge document '${docId}'`);
      return c.json(toResponse(document), 200);
    },
  );

  app.openapi(
    apiRoute(
      {
        method: 'delete',
        path: '/{docId}',
        operationId: 'deleteKnowledgeDocument',
        tags,
        summary: 'Delete one of the tenant’s documents',
        request: { params: DocIdParam },
        responses: { 204: { description: 'Deleted' } },
      },
      [404],
    ),
    async (c) => {
      const { docId } = c.req.valid('param');
      if (!(await store.knowledge.deleteDocument(c.get('principal').tenantId, docId))) throw notFound(`Knowledge document '${docId}'`);
      await knowledge.forget(docId);
      return c.body(null, 204);
    },
  );

  return app;
}
