/**
 * /.well-known/core in CoRE Link Format (RFC 6690 §5), built from the registered routes' attributes, with the
 * single-parameter query filter of RFC 6690 §4.1. Large listings go block-wise like any other body.
 */
import { Code } from './message.js';
import { ContentFormat } from './options.js';
import type { CoapHandler, LinkAttributes } from './resource.js';
import type { Route } from './router.js';

interface Link {
  readonly href: string;
  readonly attributes: LinkAttributes;
}

/** RFC 3986 path characters stay as they are; everything else is percent-encoded. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%(2[146-9A-C]|3[ABD]|40)/gi, (s) =>
    String.fromCharCode(parseInt(s.slice(1), 16)),
  );
}

const hrefOf = (path: string): string =>
  '/' +
  path
    .split('/')
    .filter((s) => s.length > 0)
    .map(encodeSegment)
    .join('/');

/** RFC 6690 §2: quoted-string values escape `"` and `\`. */
const quote = (value: string): string => `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;

function linksOf(routes: readonly Route[]): Link[] {
  const byHref = new Map<string, Link>();
  for (const route of routes) {
    const { hidden, instances, ...attributes } = route.attributes;
    if (hidden === true) continue;
    const parametric = route.rest || route.segments.some((s) => s.kind === 'param');
    if (instances !== undefined) {
      for (const instance of instances()) {
        const href = hrefOf(instance.path);
        byHref.set(href, { href, attributes: { ...attributes, ...instance.attributes } });
      }
    } else if (!parametric) {
      const href = hrefOf(route.pattern);
      // One resource, several methods: the first registration's attributes describe it.
      if (!byHref.has(href)) byHref.set(href, { href, attributes });
    }
  }
  return [...byHref.values()];
}

function serializeLink(link: Link): string {
  const a = link.attributes;
  let out = `<${link.href}>`;
  if (a.rt !== undefined) out += `;rt=${quote(a.rt)}`;
  if (a.if !== undefined) out += `;if=${quote(a.if)}`;
  if (a.ct !== undefined) out += `;ct=${a.ct}`;
  if (a.sz !== undefined) out += `;sz=${a.sz}`;
  if (a.title !== undefined) out += `;title=${quote(a.title)}`;
  if (a.obs === true) out += ';obs';
  return out;
}

function valuesOf(link: Link, name: string): string[] {
  const a = link.attributes;
  switch (name) {
    case 'href':
      return [link.href];
    case 'rt':
    case 'if':
      // RFC 6690 §3.1: rt and if are space-separated lists; a filter matches any one of them.
      return a[name]?.split(' ') ?? [];
    case 'ct':
    case 'sz':
      return a[name] === undefined ? [] : [String(a[name])];
    case 'title':
      return a.title === undefined ? [] : [a.title];
    case 'obs':
      return a.obs === true ? [''] : [];
    default:
      return [];
  }
}

/** RFC 6690 §4.1: `name=value`, with a trailing `*` meaning prefix match; `href` matches the link target. */
function matches(link: Link, filter: string | undefined): boolean {
  if (filter === undefined) return true;
  const eq = filter.indexOf('=');
  const name = eq < 0 ? filter : filter.slice(0, eq);
  const wanted = eq < 0 ? '' : filter.slice(eq + 1);
  const prefix = wanted.endsWith('*') ? wanted.slice(0, -1) : undefined;
  return valuesOf(link, name).some((v) => (prefix !== undefined ? v.startsWith(prefix) : v === wanted));
}

export function linkFormat(routes: readonly Route[], filter?: string): string {
  return linksOf(routes)
    .filter((l) => matches(l, filter))
    .map(serializeLink)
    .join(',');
}

/** The GET handler for /.well-known/core over the given routes. */
export function wellKnownCoreHandler(routes: () => readonly Route[]): CoapHandler {
  return (req) => ({
    code: Code.CONTENT,
    body: Buffer.from(linkFormat(routes(), req.query[0]), 'utf8'),
    contentFormat: ContentFormat.LINK_FORMAT,
  });
}
