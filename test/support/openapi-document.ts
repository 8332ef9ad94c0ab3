import { PrometheusTelemetry } from '../../adapters/telemetry/prometheus.js';
import { createApp, type ApiDeps } from '../../api/app.js';

/**
 * The OpenAPI document exactly as GET /openapi.json serves it, from an app built over inert deps:
 * generating the document calls none of them.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used to build the document')) });
  const deps: ApiDeps = {
    store: unused as ApiDeps['store'],
    incidents: unused as ApiDeps['incidents'],
    knowledge: unused as ApiDeps['knowledge'],
    ingestion: unused as ApiDeps['ingestion'],
    vault: unused as ApiDeps['vault'],
    diagnosis: unused as ApiDeps['diagnosis'],
    auth: unused as ApiDeps['auth'],
    kubernetes: null,
    runbooks: [],
    inlineIngestLimitBytes: 128 * 1024,
    version: '0.0.0-test',
    bodyLimitBytes: 64 * 1024,
    uploadLimitBytes: 2 * 1024 * 1024,
    corsOrigins: [],
    log: () => undefined,
    telemetry: new PrometheusTelemetry(),
  };
  const response = await createApp(deps).request('/openapi.json');
  if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}
