// Fresh TLS 1.3 session tickets on resumed connections. A TLS 1.3 client uses a ticket once
// (RFC 8446 §C.4), so a server that sends no new ticket when it resumes a session turns every
// other reconnect into a full handshake. OpenSSL sends one when the ticket-key callback answers
// "renew" (2); nginx's callback does, Node's built-in one never does, and Node has no public
// option for it. Node's SecureContext has the JavaScript hook its own test suite uses for this
// (test/parallel/test-https-resume-after-renew.js): this installs it with the same 48-byte key
// (name, HMAC key, AES key, Node's layout), so tickets stay compatible across workers and with
// contexts without the hook. Where the hook is missing nothing changes (resumption still works).
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:tls';
import { ticketKeyHook } from '../util/node-internals.js';

const USE = 1;
const USE_AND_RENEW = 2;
const UNKNOWN_KEY = 0; // OpenSSL then ignores the ticket: a full handshake

// Each new ticket needs a random 16-byte IV: taken from a pool filled 256 at a time, since a
// randomBytes() call per ticket showed in a resumed connection's profile (docs/performance.md).
const IV_POOL_SIZE = 16 * 256;
let ivPool = Buffer.alloc(0);
let ivOffset = IV_POOL_SIZE;

function nextIv(): Buffer {
  if (ivOffset === IV_POOL_SIZE) {
    ivPool = randomBytes(IV_POOL_SIZE); // a fresh buffer: IVs handed out before stay as they were
    ivOffset = 0;
  }
  ivOffset += 16;
  return ivPool.subarray(ivOffset - 16, ivOffset);
}

/** Installs the hook on the server's current context; false when this Node has none. */
export function renewTicketsOnResume(server: Server, ticketKeys: Buffer): boolean {
  const context = ticketKeyHook(server);
  if (!context) return false;
  const name = ticketKeys.subarray(0, 16);
  const hmac = ticketKeys.subarray(16, 32);
  const aes = ticketKeys.subarray(32, 48);
  context.enableTicketKeyCallback();
  context.onticketkeycallback = (ticketName, _iv, encrypt) =>
    encrypt
      ? [USE, hmac, aes, name, nextIv()]
      : [ticketName.equals(name) ? USE_AND_RENEW : UNKNOWN_KEY, hmac, aes];
  return true;
}
