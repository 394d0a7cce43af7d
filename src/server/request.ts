// One request as the routes see it, whatever the HTTP version: built by the HTTP/1 engine from
// node:http's IncomingMessage and by the HTTP/2 engine from a stream's headers. Everything here
// was already parsed and checked by llhttp or nghttp2; this module only shapes it.
import { createHash } from 'node:crypto';

export type HttpVersion = '1.0' | '1.1' | '2';

export interface EchoRequest {
  method: string;
  /** The request target as sent (`/ping?x`, or absolute form `https://a.test/ping`). */
  target: string;
  /** Path of the target (`/` for an absolute form without one, `*` for OPTIONS *). */
  path: string;
  /** Query string without `?`, undefined when the target has none. */
  query: string | undefined;
  httpVersion: HttpVersion;
  /**
   * Header names and values in the order received, names as sent: [name, value, name, value…].
   * HTTP/2's pseudo-headers (`:method`, …) are in the list as nghttp2 gives it; the echo leaves
   * them out (headerPairs), and no HTTP/1 name can start with a colon.
   */
  headers: readonly string[];
  /** The host the client asked for: absolute-form authority, else `:authority`, else Host. */
  host: string | undefined;
  accept: string | undefined;
  /** The request body, undefined when the request had none. */
  body: Buffer | undefined;
  /** HTTP/2 only: the stream this request came on. */
  streamId?: number;
}

export interface Target {
  path: string;
  query: string | undefined;
  /** The authority of an absolute-form target (RFC 9112 §3.2.2: it wins over Host). */
  authority: string | undefined;
}

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)([^#]*)/;

/** Splits a request target into path and query; absolute form is served as its path. */
export function parseTarget(target: string): Target {
  let authority: string | undefined;
  let rest = target;
  if (!target.startsWith('/')) {
    const m = ABSOLUTE.exec(target);
    if (m) {
      authority = m[1];
      rest = m[2] || '/';
      if (!rest.startsWith('/')) rest = `/${rest}`; // `http://a.test?x` is `/?x`
    }
  }
  const q = rest.indexOf('?');
  return q === -1
    ? { path: rest, query: undefined, authority }
    : { path: rest.slice(0, q), query: rest.slice(q + 1), authority };
}

// RFC 9112 §3.2 / RFC 3986: IP-literal, IPv4 or reg-name (unreserved, pct-encoded, sub-delims),
// then an optional port.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

/** Whether a Host value is syntactically a host and port (RFC 9112 §3.2 asks 400 otherwise). */
export function validHost(value: string): boolean {
  return HOST.test(value);
}

/** The host part of a Host / `:authority` value: no port, IPv6 brackets kept. */
export function hostOnly(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end === -1 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon === -1 ? authority : authority.slice(0, colon);
}

/** Query parameters in order of first appearance, each with every value given. */
export function queryParameters(query: string | undefined): Record<string, string[]> {
  const out = new Map<string, string[]>();
  if (query)
    for (const [k, v] of new URLSearchParams(query)) {
      const list = out.get(k);
      if (list) list.push(v);
      else out.set(k, [v]);
    }
  // fromEntries defines own properties: a parameter named __proto__ stays a parameter.
  return Object.fromEntries(out);
}

/** The headers as [name, value] pairs, in order, without HTTP/2's pseudo-headers. */
export function headerPairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    if (flat[i]!.charCodeAt(0) !== 58) out.push([flat[i]!, flat[i + 1]!]); // 58: ':'
  return out;
}

export interface BodySummary {
  size: number;
  sha256: string;
  content_type: string | null;
  /** `utf-8` when the body is UTF-8 text (shown as is), else `base64`. */
  encoding: 'utf-8' | 'base64';
  /** The body, or its first --echo-body-limit bytes when `truncated`. */
  content: string;
  truncated: boolean;
}

/** What the echo shows of a body: size, digest, and the body itself up to `limit` bytes. */
export function summarizeBody(body: Buffer, contentType: string | undefined, limit: number): BodySummary {
  const truncated = body.length > limit;
  const shown = truncated ? body.subarray(0, limit) : body;
  // A cut can split a UTF-8 sequence: the text check allows an incomplete one at the very end.
  const text = decodeUtf8(shown, truncated);
  return {
    size: body.length,
    sha256: createHash('sha256').update(body).digest('hex'),
    content_type: contentType ?? null,
    encoding: text === undefined ? 'base64' : 'utf-8',
    content: text ?? shown.toString('base64'),
    truncated,
  };
}

function decodeUtf8(bytes: Buffer, cut: boolean): string | undefined {
  try {
    // `stream` holds back an incomplete sequence at the end instead of calling it invalid.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: cut });
  } catch {
    return undefined;
  }
}

/** The first value of a header in a flat list, by lowercase name. */
export function headerValue(flat: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i]!.toLowerCase() === lowerName) return flat[i + 1];
  return undefined;
}
