// Every place where tlsecho relies on something of Node's that is not public API, in one module.
// Each one has a test in test/server/node-internals.test.ts that fails loudly when a Node
// release changes it, and each says what happens when it is missing. Checked on Node 20.20 and
// Node 24.22.
import type { Server as HttpServer, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';

/**
 * The TCP connection under a TLS socket (node:tls keeps it as `_parent`). Used to answer plain
 * HTTP sent to the HTTPS port in clear text; without it such a request is just closed.
 */
export function tcpOf(socket: TLSSocket): Socket | undefined {
  return (socket as TLSSocket & { _parent?: Socket })._parent;
}

/** The JavaScript ticket-key hook of a TLS server's current SecureContext (see ticket-renewal.ts). */
export interface TicketKeyHook {
  enableTicketKeyCallback(): void;
  onticketkeycallback?: (name: Buffer, iv: Buffer, encrypt: boolean) => unknown[];
}

/**
 * The native context behind a tls.Server (`_sharedCreds.context`), which carries the ticket-key
 * hook Node's own tests use. Without it, resumed TLS 1.3 sessions get no fresh ticket: every
 * other reconnect is a full handshake, nothing breaks.
 */
export function ticketKeyHook(server: TlsServer): TicketKeyHook | undefined {
  const context = (server as unknown as { _sharedCreds?: { context?: Partial<TicketKeyHook> } })._sharedCreds
    ?.context;
  return typeof context?.enableTicketKeyCallback === 'function' ? (context as TicketKeyHook) : undefined;
}

/**
 * The response node:http is still writing on this socket (`_httpMessage`), if any: a client
 * error must wait for it rather than write its answer into the middle of it. Without it, the
 * error answer could interleave with a pipelined response.
 */
export function responseInProgress(socket: Socket): ServerResponse | undefined {
  const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  return res && !res.writableFinished ? res : undefined;
}

/**
 * Whether node:http will keep the connection open after this response (`shouldKeepAlive`, set
 * from llhttp's reading of the request's version and Connection header before the 'request'
 * event; typed in @types/node, not documented). The HTTP/1 engine announces its keep-alive
 * timeout only then. Without it no answer carries `Keep-Alive: timeout=N`: clients fall back to
 * their own idle timeout, nothing breaks.
 */
export function keepsAlive(res: ServerResponse): boolean {
  return (res as ServerResponse & { shouldKeepAlive?: unknown }).shouldKeepAlive === true;
}

/**
 * node:http tracks connections for --header-timeout and --request-timeout (and for
 * closeAllConnections) only once its server emits 'listening'. The HTTP/1 engine never listens:
 * the TLS listener hands it connections through its documented 'connection' event. Without this
 * call, slow request heads would never time out, which the tests of the timeouts would show.
 */
export function startConnectionTracking(server: HttpServer): void {
  server.emit('listening');
}

/**
 * Makes one TLS server socket require and verify a client certificate, from inside the
 * SNICallback (which Node calls with the socket as `this`, before the server asks for a
 * certificate): OpenSSL's verify mode (`_handle.setVerifyMode`) and the two flags node:tls checks
 * when the handshake ends (`_requestCert`, `_rejectUnauthorized`). The lab's client-cert name
 * needs it because requestCert is otherwise one setting for the whole server. Without it that
 * name's handshakes are refused (lab-sites.ts fails closed); nothing else changes.
 */
export function requireClientCertificate(socket: unknown): boolean {
  const s = socket as {
    _handle?: { setVerifyMode?: (request: boolean, reject: boolean) => void };
    _requestCert?: boolean;
    _rejectUnauthorized?: boolean;
  } | null;
  if (typeof s?._handle?.setVerifyMode !== 'function' || typeof s._requestCert !== 'boolean') return false;
  s._requestCert = true;
  s._rejectUnauthorized = true;
  s._handle.setVerifyMode(true, true);
  return true;
}
