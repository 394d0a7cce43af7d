// Why a request failed, in plain words: Node's TLS and socket error codes mapped to the short
// reasons the summary counts and the one-line messages people read.

export interface Failure {
  /** Short, stable key the summary groups by, e.g. `unknown CA`. */
  reason: string;
  /** The specific detail, e.g. which names the certificate does have. */
  detail?: string;
  /** The server is not (yet) there: worth waiting for rather than a broken setup. */
  unavailable: boolean;
}

/** An error the client raises itself, already in plain words. */
export class RequestFailure extends Error {
  constructor(
    readonly failure: Failure,
    options?: { cause?: unknown },
  ) {
    super(failure.detail ? `${failure.reason}: ${failure.detail}` : failure.reason, options);
  }
}

const UNKNOWN_CA = 'certificate not issued by the trusted CA (unknown CA)';

const TLS_REASONS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNKNOWN_CA,
  UNABLE_TO_GET_ISSUER_CERT: UNKNOWN_CA,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNKNOWN_CA,
  SELF_SIGNED_CERT_IN_CHAIN: UNKNOWN_CA,
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate, not issued by the trusted CA',
  CERT_SIGNATURE_FAILURE: 'certificate signature does not verify',
  ERR_TLS_CERT_ALTNAME_INVALID: 'name not in certificate',
  CERT_HAS_EXPIRED: 'certificate expired',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  CERT_REVOKED: 'certificate revoked',
  INVALID_CA: 'issuer is not a CA certificate',
  INVALID_PURPOSE: 'certificate not valid for TLS server use',
  CERT_UNTRUSTED: UNKNOWN_CA,
  CERT_REJECTED: UNKNOWN_CA,
};

const NET_REASONS: Record<string, { reason: string; unavailable: boolean }> = {
  ECONNREFUSED: { reason: 'connection refused', unavailable: true },
  ENOTFOUND: { reason: 'name does not resolve', unavailable: true },
  ENODATA: { reason: 'name has no address', unavailable: true },
  EAI_AGAIN: { reason: 'DNS lookup failed temporarily', unavailable: true },
  ESERVFAIL: { reason: 'DNS server failure', unavailable: true },
  ETIMEOUT: { reason: 'DNS lookup timed out', unavailable: true },
  EREFUSED: { reason: 'DNS server refused the query', unavailable: false },
  EHOSTUNREACH: { reason: 'host unreachable', unavailable: true },
  ENETUNREACH: { reason: 'network unreachable', unavailable: true },
  ECONNRESET: { reason: 'connection reset', unavailable: false },
  EPIPE: { reason: 'connection reset', unavailable: false },
  ETIMEDOUT: { reason: 'timed out', unavailable: true },
};

/** Maps any error from resolving, connecting, the handshake or the response to a Failure. */
export function describeFailure(err: unknown): Failure {
  if (err instanceof RequestFailure) return err.failure;
  const e = err as NodeJS.ErrnoException & { reason?: string; host?: string };
  const code = e?.code ?? '';
  const tls = TLS_REASONS[code];
  if (tls) {
    // Node's altname message says which names the certificate does have; keep that part.
    const detail = code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? altnameDetail(e) : undefined;
    return { reason: tls, ...(detail ? { detail } : {}), unavailable: false };
  }
  const net = NET_REASONS[code];
  if (net) return { ...net };
  // OpenSSL alerts from the server, e.g. it wants a client certificate we did not send.
  const message = String(e?.message ?? err);
  if (/alert certificate required/i.test(message))
    return {
      reason: 'server requires a client certificate',
      detail: 'give --cert-file and --key-file',
      unavailable: false,
    };
  if (/alert certificate required|alert handshake failure|peer did not return a certificate/i.test(message))
    return { reason: 'TLS handshake refused by server', detail: tidy(message), unavailable: false };
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO')
    return { reason: 'TLS handshake failed', detail: tidy(message), unavailable: false };
  return { reason: code || 'error', detail: tidy(message), unavailable: false };
}

function altnameDetail(e: { reason?: string; message?: string }): string | undefined {
  // e.reason: "Host: a.b. is not in the cert's altnames: DNS:x, DNS:y"
  const m = /altnames: (.*)$/.exec(e.reason ?? e.message ?? '');
  return m ? `certificate is for ${m[1]}` : e.reason;
}

/** OpenSSL messages carry a numeric prefix and library path; keep the readable part. */
function tidy(message: string): string {
  const m = /:SSL routines:[^:]*:([^:]+):/.exec(message);
  return (m ? m[1]! : message).split('\n')[0]!.trim();
}
