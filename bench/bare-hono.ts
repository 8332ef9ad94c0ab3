import { serve } from '@hono/node-server';
import { Hono } from 'hono';

// The baseline of `npm run bench`: Hono's hello world on the same Node and server adapter as the
// API (@hono/node-server), run as a child process under tsx exactly as `npm start` runs, so the
// difference to the API's rows is what the API does per request.

const app = new Hono();
app.get('/', (c) => c.json({ ok: true }));

const originalParent = process.ppid;
setInterval(() => {
  // Re-parented: the benchmark that started us is gone, so are we.
  if (process.ppid !== originalParent) process.exit(0);
}, 1000).unref();

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) }, (info) => {
  console.log(`bare Hono listening on 127.0.0.1:${info.port}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
