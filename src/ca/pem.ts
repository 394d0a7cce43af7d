// PEM text as the CA's files and the trust stores hold it.

// Base64 has no '-', so a block cannot run on into the next one's BEGIN line.
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The certificate blocks of `text`, in order (a cert.pem: the leaf, then its intermediates). */
export function pemCertificates(text: string): string[] {
  return text.match(CERTIFICATE_BLOCK) ?? [];
}

/**
 * The base64 of PEM text without its BEGIN/END lines and white space: how a certificate is found
 * in a bundle, or compared with a file, whatever the line breaks.
 */
export function pemBody(pem: string): string {
  return pem.replace(/-----[^-]+-----|\s/g, '');
}
