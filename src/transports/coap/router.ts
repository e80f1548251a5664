/**
 * Maps (method, Uri-Path segments) to a handler. Patterns are `/a/b` (static), `/fw/:name` (one segment) and a
 * trailing `/*` (the rest, at least one segment, joined with `/` in params['*']).
 * Static patterns are a Map lookup, so firmware routes cost nothing as the table grows.
 */
import type { Method } from './message.js';
import type { CoapHandler, ResourceAttributes } from './resource.js';

type Segment =
  { readonly kind: 'static'; readonly text: string } | { readonly kind: 'param'; readonly name: string };

export interface Route {
  readonly method: Method;
  readonly pattern: string;
  readonly handler: CoapHandler;
  readonly attributes: ResourceAttributes;
  readonly segments: readonly Segment[];
  readonly rest: boolean;
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'method-not-allowed' }
  | { readonly kind: 'not-found' };

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const keyOf = (segments: readonly string[]): string => segments.join('\u0000');

export function splitPattern(pattern: string): string[] {
  return pattern.split('/').filter((s) => s.length > 0);
}

export class Router {
  readonly #static = new Map<string, Route[]>();
  readonly #dynamic: Route[] = [];
  readonly #all: Route[] = [];

  add(method: Method, pattern: string, handler: CoapHandler, attributes: ResourceAttributes = {}): Route {
    const parts = splitPattern(pattern);
    const rest = parts.at(-1) === '*';
    if (rest) parts.pop();
    if (parts.includes('*')) throw new Error(`'*' is only allowed at the end of a CoAP route: ${pattern}`);
    const segments: Segment[] = parts.map((p) =>
      p.startsWith(':') ? { kind: 'param', name: p.slice(1) } : { kind: 'static', text: p },
    );
    const route: Route = { method, pattern, handler, attributes, segments, rest };
    const key = keyOf(parts);
    const sameShape = this.#all.find((r) => r.method === method && r.pattern === pattern);
    if (sameShape !== undefined) throw new Error(`duplicate CoAP route ${method} ${pattern}`);
    if (!rest && segments.every((s) => s.kind === 'static')) {
      const list = this.#static.get(key) ?? [];
      list.push(route);
      this.#static.set(key, list);
    } else {
      this.#dynamic.push(route);
    }
    this.#all.push(route);
    return route;
  }

  routes(): readonly Route[] {
    return this.#all;
  }

  match(method: Method, path: readonly string[]): RouteMatch {
    let pathExists = false;
    const statics = this.#static.get(keyOf(path));
    if (statics !== undefined) {
      for (const route of statics)
        if (route.method === method) return { kind: 'found', route, params: NO_PARAMS };
      pathExists = true;
    }
    for (const route of this.#dynamic) {
      const params = matchDynamic(route, path);
      if (params === undefined) continue;
      if (route.method === method) return { kind: 'found', route, params };
      pathExists = true;
    }
    // RFC 7252 §5.9.2.6: the resource exists but not for this method.
    return pathExists ? { kind: 'method-not-allowed' } : { kind: 'not-found' };
  }
}

function matchDynamic(route: Route, path: readonly string[]): Record<string, string> | undefined {
  const n = route.segments.length;
  if (route.rest ? path.length <= n : path.length !== n) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const segment = route.segments[i];
    const actual = path[i];
    if (segment === undefined || actual === undefined) return undefined;
    if (segment.kind === 'static') {
      if (segment.text !== actual) return undefined;
    } else {
      params[segment.name] = actual;
    }
  }
  if (route.rest) params['*'] = path.slice(n).join('/');
  return params;
}
