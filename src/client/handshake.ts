// `tlsecho client --show-handshake`: what this client offered and what the server chose, read
// from the server's JSON echo (its ClientHello as the server parsed it), so that a teacher
// running both ends sees one handshake from both sides.
import type { HandshakeReport } from '../tls/report.js';

const names = (list: { name: string; grease?: true }[] | null | undefined) =>
  list ? list.filter((c) => !c.grease).map((c) => c.name) : [];

/** Lines to print under a request's answer; one line when the server showed no handshake. */
export function handshakeLines(h: HandshakeReport | null | undefined): string[] {
  if (!h) return ['  handshake: the server did not show it (a tlsecho server before the handshake echo?)'];
  const hello = h.client_hello;
  const c = h.chosen;
  const chosen = `  chose:   ${[c.version, c.cipher, c.alpn ? `ALPN ${c.alpn}` : 'no ALPN', c.resumed ? 'resumed' : 'full handshake'].filter(Boolean).join(', ')}`;
  if ('unparsed' in hello)
    return [`  offered: (the server could not read the ClientHello: ${hello.unparsed})`, chosen];
  const alpn = (hello.alpn ?? []).filter((a) => !a.grease).map((a) => a.value ?? `0x${a.hex}`);
  const lines = [
    `  offered: ${names(hello.supported_versions).join(', ') || hello.legacy_version.name}; ` +
      `ALPN ${alpn.join(', ') || 'none'}; groups ${names(hello.supported_groups).join(', ') || 'none'}; ` +
      `${names(hello.cipher_suites).length} cipher suites`,
    chosen,
    ...h.notes.map((n) => `  note:    ${n}`),
  ];
  if (h.fingerprints) lines.push(`  ja4:     ${h.fingerprints.ja4}  ja3: ${h.fingerprints.ja3_hash}`);
  return lines;
}
