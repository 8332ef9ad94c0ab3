import type { Hono, MiddlewareHandler } from 'hono';
import { problemResponse } from './problem.js';

interface RouteShape {
  pattern: RegExp;
  methods: Set<string>;
  /** Has a path parameter (`:docId`). */
  dynamic: boolean;
}

/** Hono's route paths (`/api/v1/cmdb/:tagId`) as anchored patterns, with the methods each answers. */
function routeShapes(app: Hono<never>): RouteShape[] {
  const byPath = new Map<string, Set<string>>();
  for (const route of app.routes) {
    if (route.method === 'ALL') continue; // middleware
    const methods = byPath.get(route.path) ?? new Set<string>();
    methods.add(route.method);
    // Hono answers HEAD from the GET handler.
    if (route.method === 'GET') methods.add('HEAD');
    byPath.set(route.path, methods);
  }
  return [...byPath].map(([path, methods]) => {
    const source = path
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    return { pattern: new RegExp(`^${source}$`), methods, dynamic: path.includes('/:') };
  });
}

/**
 * A method a known path does not have answers 405 with the Allow header (RFC 9110), before
 * authentication or body checks: which methods a path has is public (the OpenAPI document says so).
 * The route table is read on the first request, when every route has been registered.
 */
export function methodNotAllowed(app: Hono<never>): MiddlewareHandler {
  let shapes: RouteShape[] | null = null;
  return async (c, next) => {
    shapes ??= routeShapes(app);
    const matching = shapes.filter((shape) => shape.pattern.test(c.req.path));
    // A path the API names outright (/knowledge/search) is that resource, not an id of a
    // parameterised one (/knowledge/{docId}): only its own methods are allowed.
    const named = matching.filter((shape) => !shape.dynamic);
    const allowed = new Set<string>();
    for (const shape of named.length > 0 ? named : matching) for (const method of shape.methods) allowed.add(method);
    if (allowed.size > 0 && !allowed.has(c.req.method)) {
      const allow = [...allowed].join(', ');
      return problemResponse(c, 405, 'method-not-allowed', `${c.req.path} answers ${allow}, not ${c.req.method}.`, undefined, {
        allow,
      });
    }
    await next();
  };
}
