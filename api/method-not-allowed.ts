import type { Hono, MiddlewareHandler } from 'hono';
import { problemResponse } from './problem.js';

/** A parameterised route path (`/api/v1/cmdb/:tagId`) as its segments; null stands for a parameter. */
interface DynamicRoute {
  segments: (string | null)[];
  methods: Set<string>;
}

/**
 * The route table indexed for a lookup per request: paths without a parameter by their exact text,
 * parameterised ones grouped by their number of segments and compared segment by segment (a
 * parameter matches any non-empty segment), so no request builds or runs a regular expression.
 */
interface RouteIndex {
  named: Map<string, Set<string>>;
  dynamicBySegments: Map<number, DynamicRoute[]>;
}

function indexRoutes(app: Hono<never>): RouteIndex {
  const byPath = new Map<string, Set<string>>();
  for (const route of app.routes) {
    if (route.method === 'ALL') continue; // middleware
    const methods = byPath.get(route.path) ?? new Set<string>();
    methods.add(route.method);
    // Hono answers HEAD from the GET handler.
    if (route.method === 'GET') methods.add('HEAD');
    byPath.set(route.path, methods);
  }
  const index: RouteIndex = { named: new Map(), dynamicBySegments: new Map() };
  for (const [path, methods] of byPath) {
    if (!path.includes('/:')) {
      index.named.set(path, methods);
      continue;
    }
    const segments = path.split('/').map((part) => (part.startsWith(':') ? null : part));
    const group = index.dynamicBySegments.get(segments.length) ?? [];
    group.push({ segments, methods });
    index.dynamicBySegments.set(segments.length, group);
  }
  return index;
}

function matches(route: DynamicRoute, parts: string[]): boolean {
  for (let i = 0; i < parts.length; i += 1) {
    const expected = route.segments[i];
    if (expected === null ? parts[i] === '' : expected !== parts[i]) return false;
  }
  return true;
}

/** The methods a path answers, or null for a path the API does not have. */
function allowedMethods(index: RouteIndex, path: string): Set<string> | null {
  // A path the API names outright (/knowledge/search) is that resource, not an id of a
  // parameterised one (/knowledge/{docId}): only its own methods are allowed.
  const named = index.named.get(path);
  if (named) return named;
  const parts = path.split('/');
  let allowed: Set<string> | null = null;
  for (const route of index.dynamicBySegments.get(parts.length) ?? []) {
    if (!matches(route, parts)) continue;
    allowed ??= new Set();
    for (const method of route.methods) allowed.add(method);
  }
  return allowed;
}

/**
 * A method a known path does not have answers 405 with the Allow header (RFC 9110), before
 * authentication or body checks: which methods a path has is public (the OpenAPI document says so).
 * The route table is read on the first request, when every route has been registered.
 */
export function methodNotAllowed(app: Hono<never>): MiddlewareHandler {
  let index: RouteIndex | null = null;
  return async (c, next) => {
    index ??= indexRoutes(app);
    const allowed = allowedMethods(index, c.req.path);
    if (allowed && !allowed.has(c.req.method)) {
      const allow = [...allowed].join(', ');
      return problemResponse(c, 405, 'method-not-allowed', `${c.req.path} answers ${allow}, not ${c.req.method}.`, undefined, {
        allow,
      });
    }
    await next();
  };
}
