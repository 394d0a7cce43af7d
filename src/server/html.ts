// The echo page for browsers: self-contained (no scripts, no external assets), one inline style
// allowed by its hash in a strict Content-Security-Policy, light and dark via prefers-color-scheme.
import { createHash } from 'node:crypto';
import type { EchoDocument } from './echo.js';

const STYLE = `
:root{color-scheme:light dark;--bg:#fbfbfc;--fg:#16181d;--muted:#555b66;--card:#fff;--line:#d8dbe2;--accent:#0b5cad;--ok:#116329}
@media (prefers-color-scheme:dark){:root{--bg:#111318;--fg:#e8eaee;--muted:#a3a9b4;--card:#1a1d24;--line:#323743;--accent:#7cb7ff;--ok:#6fd58a}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:46rem;margin:0 auto;padding:2rem 1.25rem}
h1{font-size:1.35rem;margin:0 0 .25rem}
h2{font-size:1.05rem;margin:0 0 .5rem}
p{margin:.25rem 0 1rem;color:var(--muted)}
.echo{color:var(--fg);font:1.05rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--card);border:1px solid var(--line);border-left:4px solid var(--ok);border-radius:6px;padding:.85rem 1rem;margin:0 0 1.5rem;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.45rem 1.25rem;background:var(--card);border:1px solid var(--line);border-radius:6px;padding:1rem 1.25rem;margin:0 0 1.5rem}
dt{font-weight:600}
dd{margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
a{color:var(--accent)}
code{white-space:nowrap}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:6px;margin:0 0 1.5rem;font:.9rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
th,td{text-align:left;vertical-align:top;padding:.3rem .6rem;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
tbody th{white-space:nowrap}
.note{border-left:4px solid var(--accent);padding-left:.75rem;color:var(--fg)}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.75rem 1rem;margin:0 0 1.5rem}
a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
@media (max-width:34rem){dl{grid-template-columns:1fr}dd{margin-bottom:.5rem}}
`;

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** Sent with the page: nothing may load or run but the page's own style. */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${STYLE_HASH}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function row(term: string, value: string | null | undefined, fallback: string): string {
  return `<dt>${term}</dt><dd>${escapeHtml(value ?? fallback)}</dd>`;
}

function coalescingNote(d: EchoDocument): string {
  const h2 = d.http2;
  if (!h2 || h2.authority_matches_sni !== false) return '';
  return `<p class="note">This request asked for <code>${escapeHtml(h2.authority ?? '')}</code> on a connection opened for <code>${escapeHtml(d.server_name ?? '')}</code>: over HTTP/2 a browser reuses one connection for every name the certificate covers (connection coalescing), so the SNI stays that of the first name.</p>\n`;
}

const names = (list: { name: string; grease?: true }[] | null | undefined): string =>
  list ? list.map((c) => (c.grease ? 'GREASE' : c.name)).join(', ') : 'not sent';

/** Offered next to chosen, so a person sees at a glance what the handshake settled. */
function handshakeSection(d: EchoDocument): string {
  const h = d.handshake;
  if (!h) return '';
  const notes = h.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('\n');
  const hello = h.client_hello;
  const rows: [string, string, string][] =
    'unparsed' in hello
      ? [['ClientHello', `not readable: ${hello.unparsed}`, '']]
      : [
          [
            'TLS versions',
            names(hello.supported_versions) || hello.legacy_version.name,
            h.chosen.version ?? '',
          ],
          ['Cipher suites', names(hello.cipher_suites), h.chosen.cipher ?? ''],
          [
            'ALPN',
            hello.alpn
              ? hello.alpn.map((a) => (a.grease ? 'GREASE' : (a.value ?? `0x${a.hex}`))).join(', ')
              : 'not sent',
            h.chosen.alpn ?? 'none',
          ],
          [
            'Groups (key shares)',
            `${names(hello.supported_groups)} (shares: ${names(hello.key_share)})`,
            h.chosen.group ?? 'not reported by Node',
          ],
          ['Signature algorithms', names(hello.signature_algorithms), ''],
          [
            'Server name (SNI)',
            hello.server_name ?? 'not sent',
            (h.chosen.certificate_names ?? []).join(', '),
          ],
          [
            'Resumption',
            hello.psk_identities > 0
              ? 'a session ticket (PSK)'
              : hello.session_ticket_length
                ? 'a TLS 1.2 ticket'
                : 'no session offered',
            h.chosen.resumed ? 'resumed' : 'full handshake',
          ],
          ['Encrypted ClientHello', hello.ech_offered ? 'offered' : 'not offered', ''],
        ];
  const table = rows
    .map(
      ([what, offered, chosen]) =>
        `<tr><th scope="row">${escapeHtml(what)}</th><td>${escapeHtml(offered)}</td><td>${escapeHtml(chosen)}</td></tr>`,
    )
    .join('\n');
  const fp = h.fingerprints;
  return `<h2 id="handshake">Handshake: offered and chosen</h2>
<ul aria-label="What happened">
${notes}
</ul>
<table aria-labelledby="handshake">
<thead><tr><th scope="col"></th><th scope="col">The client offered</th><th scope="col">The server chose</th></tr></thead>
<tbody>
${table}
</tbody>
</table>
${fp ? `<dl aria-label="Fingerprints">\n${row('JA4', fp.ja4, '')}\n${row('JA3', `${fp.ja3_hash}`, '')}\n</dl>` : ''}`;
}

function requestSection(d: EchoDocument): string {
  const r = d.request;
  const headers = r.headers
    .map(([name, value]) => `<tr><th scope="row">${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('\n');
  const b = r.body;
  const body = b
    ? `<h2 id="body">Request body</h2>
<dl aria-labelledby="body">
${row('Size', `${b.size} bytes`, '')}
${row('SHA-256', b.sha256, '')}
${row('Content type', b.content_type, 'none sent')}
${row('Shown as', b.encoding + (b.truncated ? ' (first part only)' : ''), '')}
</dl>
<pre>${escapeHtml(b.content)}</pre>`
    : '';
  return `<h2 id="request">Request</h2>
<dl aria-labelledby="request">
${row('Request', `${r.method} ${r.target}`, '')}
${d.http2 ? row('HTTP/2 stream', String(d.http2.stream_id), '') : ''}
</dl>
<table aria-label="Request headers in the order received">
<thead><tr><th scope="col">Header</th><th scope="col">Value</th></tr></thead>
<tbody>
${headers}
</tbody>
</table>
${body}`;
}

/**
 * On a main name's page, links to the failure lab (same port as this page, taken from the Host the
 * browser sent; tls12 is on its own port, so it is named, not linked).
 */
function labSection(d: EchoDocument): string {
  const names = d.lab_names;
  if (!names || (d.server_name !== null && names.includes(d.server_name.toLowerCase()))) return '';
  const port = /:(\d+)$/.exec(d.host ?? '')?.[1];
  const items = names.map((n) =>
    n.startsWith('tls12.')
      ? `<li><code>${escapeHtml(n)}</code> (TLS 1.2 only, on the server's --lab-tls12-port)</li>`
      : `<li><a href="https://${escapeHtml(n)}${port ? `:${port}` : ''}/">${escapeHtml(n)}</a></li>`,
  );
  return `<h2 id="lab">Failure lab</h2>
<p>Each name below is broken on purpose (docs/lab.md); a browser must refuse all but the good one.</p>
<ul aria-labelledby="lab">
${items.join('\n')}
</ul>
`;
}

function renderPage(d: EchoDocument): string {
  const cc = d.client_certificate;
  const rows = [
    row('Client IP', `${d.client_ip} (port ${d.client_port})`, ''),
    row('Server name (SNI)', d.server_name, 'none sent'),
    row(d.http2 ? 'Authority (:authority)' : 'Host header', d.host, 'none sent'),
    row('TLS version', d.tls_version, ''),
    row('Cipher', d.cipher, ''),
    row('ALPN', d.alpn, 'none negotiated'),
    row('HTTP version', d.request.http_version === '2' ? 'HTTP/2' : `HTTP/${d.request.http_version}`, ''),
    row('Session resumed', d.session_resumed ? 'yes' : 'no', ''),
    row(
      'Client certificate',
      cc ? cc.subject : null,
      d.client_auth ? 'none accepted' : 'none (mutual TLS is off)',
    ),
    ...(d.client_auth && !d.client_auth.verified
      ? [
          row(
            'Client cert check',
            d.client_auth.presented
              ? `presented (${d.client_auth.subject ?? ''}, issuer ${d.client_auth.issuer ?? ''}) but not verified: ${d.client_auth.error ?? ''}`
              : `none presented (${d.client_auth.error ?? ''})`,
            '',
          ),
        ]
      : []),
    ...(cc
      ? [row('Client cert issuer', cc.issuer, ''), row('Client cert SHA-256', cc.fingerprint_sha256, '')]
      : []),
    row('Served by', d.served_by, ''),
    row('Root CA SHA-256', d.root_ca_fingerprint_sha256, ''),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>tlsecho: ${escapeHtml(d.server_name ?? 'no SNI')}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>TLS connection</h1>
<p>What this server saw of your connection.</p>
<p class="echo" role="status">${escapeHtml(d.message)}</p>
${coalescingNote(d)}<h2 id="facts">Connection details</h2>
<dl aria-labelledby="facts">
${rows.join('\n')}
</dl>
${handshakeSection(d)}
${requestSection(d)}
${labSection(d)}<p><a href="/?format=json">This page as JSON</a> · <a href="/?format=text">as the text line</a> · compare the root CA fingerprint with <code>tlsecho ca fingerprint</code>.</p>
</main>
</body>
</html>
`;
}

export function htmlBody(d: EchoDocument): string {
  return renderPage(d);
}
