// IANA names for the code points a ClientHello carries (TLS parameters and TLS extension type
// registries), limited to what clients on the wire actually send; anything else is shown by its
// hex code. Each table is one "hex name" pair per line so it reads like the registry and stays
// small.

export type Table = ReadonlyMap<number, string>;

function table(text: string): Table {
  const map = new Map<number, string>();
  for (const line of text.trim().split('\n')) {
    const [hex, name] = line.trim().split(/\s+/);
    map.set(Number.parseInt(hex!, 16), name!);
  }
  return map;
}

export const CIPHER_SUITES = table(`
  1301 TLS_AES_128_GCM_SHA256
  1302 TLS_AES_256_GCM_SHA384
  1303 TLS_CHACHA20_POLY1305_SHA256
  1304 TLS_AES_128_CCM_SHA256
  1305 TLS_AES_128_CCM_8_SHA256
  c02b TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
  c02c TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
  c02f TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  c030 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
  cca8 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
  cca9 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
  ccaa TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
  c009 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
  c00a TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
  c013 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
  c014 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
  c023 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
  c024 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
  c027 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
  c028 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
  c007 TLS_ECDHE_ECDSA_WITH_RC4_128_SHA
  c008 TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA
  c011 TLS_ECDHE_RSA_WITH_RC4_128_SHA
  c012 TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA
  c0ac TLS_ECDHE_ECDSA_WITH_AES_128_CCM
  c0ad TLS_ECDHE_ECDSA_WITH_AES_256_CCM
  009c TLS_RSA_WITH_AES_128_GCM_SHA256
  009d TLS_RSA_WITH_AES_256_GCM_SHA384
  009e TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
  009f TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
  002f TLS_RSA_WITH_AES_128_CBC_SHA
  0035 TLS_RSA_WITH_AES_256_CBC_SHA
  003c TLS_RSA_WITH_AES_128_CBC_SHA256
  003d TLS_RSA_WITH_AES_256_CBC_SHA256
  0032 TLS_DHE_DSS_WITH_AES_128_CBC_SHA
  0033 TLS_DHE_RSA_WITH_AES_128_CBC_SHA
  0038 TLS_DHE_DSS_WITH_AES_256_CBC_SHA
  0039 TLS_DHE_RSA_WITH_AES_256_CBC_SHA
  0067 TLS_DHE_RSA_WITH_AES_128_CBC_SHA256
  006b TLS_DHE_RSA_WITH_AES_256_CBC_SHA256
  0004 TLS_RSA_WITH_RC4_128_MD5
  0005 TLS_RSA_WITH_RC4_128_SHA
  000a TLS_RSA_WITH_3DES_EDE_CBC_SHA
  0013 TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA
  0016 TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA
  00ff TLS_EMPTY_RENEGOTIATION_INFO_SCSV
  5600 TLS_FALLBACK_SCSV
`);

export const GROUPS = table(`
  0015 secp224r1
  0016 secp256k1
  0017 secp256r1
  0018 secp384r1
  0019 secp521r1
  001a brainpoolP256r1
  001b brainpoolP384r1
  001c brainpoolP512r1
  001d x25519
  001e x448
  001f brainpoolP256r1tls13
  0020 brainpoolP384r1tls13
  0021 brainpoolP512r1tls13
  0100 ffdhe2048
  0101 ffdhe3072
  0102 ffdhe4096
  0103 ffdhe6144
  0104 ffdhe8192
  0200 MLKEM512
  0201 MLKEM768
  0202 MLKEM1024
  11eb SecP256r1MLKEM768
  11ec X25519MLKEM768
  11ed SecP384r1MLKEM1024
  6399 X25519Kyber768Draft00
`);

// 0x0301-0x0303 and the DSA codes are not TLS 1.3 SignatureSchemes but TLS 1.2 (hash, signature)
// pairs OpenSSL still offers; they are named the way TLS 1.2 builds them.
export const SIGNATURE_SCHEMES = table(`
  0201 rsa_pkcs1_sha1
  0202 dsa_sha1
  0203 ecdsa_sha1
  0301 rsa_pkcs1_sha224
  0302 dsa_sha224
  0303 ecdsa_sha224
  0401 rsa_pkcs1_sha256
  0402 dsa_sha256
  0403 ecdsa_secp256r1_sha256
  0420 rsa_pkcs1_sha256_legacy
  0501 rsa_pkcs1_sha384
  0502 dsa_sha384
  0503 ecdsa_secp384r1_sha384
  0601 rsa_pkcs1_sha512
  0602 dsa_sha512
  0603 ecdsa_secp521r1_sha512
  0804 rsa_pss_rsae_sha256
  0805 rsa_pss_rsae_sha384
  0806 rsa_pss_rsae_sha512
  0807 ed25519
  0808 ed448
  0809 rsa_pss_pss_sha256
  080a rsa_pss_pss_sha384
  080b rsa_pss_pss_sha512
  081a ecdsa_brainpoolP256r1tls13_sha256
  081b ecdsa_brainpoolP384r1tls13_sha384
  081c ecdsa_brainpoolP512r1tls13_sha512
  0904 mldsa44
  0905 mldsa65
  0906 mldsa87
`);

// 0x4469 and 0x44cd (ALPS) and 0x3374 (NPN) are not in the IANA registry but sent by Chromium
// and old clients; naming them saves a reader the search.
export const EXTENSIONS = table(`
  0000 server_name
  0001 max_fragment_length
  0005 status_request
  000a supported_groups
  000b ec_point_formats
  000d signature_algorithms
  000e use_srtp
  000f heartbeat
  0010 application_layer_protocol_negotiation
  0011 status_request_v2
  0012 signed_certificate_timestamp
  0015 padding
  0016 encrypt_then_mac
  0017 extended_master_secret
  001b compress_certificate
  001c record_size_limit
  0022 delegated_credential
  0023 session_ticket
  0029 pre_shared_key
  002a early_data
  002b supported_versions
  002c cookie
  002d psk_key_exchange_modes
  002f certificate_authorities
  0030 oid_filters
  0031 post_handshake_auth
  0032 signature_algorithms_cert
  0033 key_share
  0039 quic_transport_parameters
  3374 next_protocol_negotiation
  4469 application_settings_old
  44cd application_settings
  fe0d encrypted_client_hello
  ff01 renegotiation_info
`);

export const VERSIONS = table(`
  0002 SSL_2.0
  0300 SSL_3.0
  0301 TLS_1.0
  0302 TLS_1.1
  0303 TLS_1.2
  0304 TLS_1.3
  feff DTLS_1.0
  fefd DTLS_1.2
  fefc DTLS_1.3
`);

/** The names people write (`TLS 1.3`), as Node's getProtocol() and the docs do. */
export function versionName(code: number): string {
  return VERSIONS.get(code)?.replace('_', ' ') ?? hex4(code);
}

export const COMPRESSION_METHODS = table(`
  00 null
  01 DEFLATE
`);

export const PSK_KEY_EXCHANGE_MODES = table(`
  00 psk_ke
  01 psk_dhe_ke
`);

export const EC_POINT_FORMATS = table(`
  00 uncompressed
  01 ansiX962_compressed_prime
  02 ansiX962_compressed_char2
`);

export const CERT_COMPRESSION = table(`
  0001 zlib
  0002 brotli
  0003 zstd
`);

/** `0x1301`: the four hex digits every TLS tool prints. */
export function hex4(code: number): string {
  return `0x${code.toString(16).padStart(4, '0')}`;
}

/**
 * RFC 8701 GREASE: 0x0a0a, 0x1a1a … 0xfafa in the two-byte registries (cipher suites,
 * extensions, groups, versions, signature schemes); both bytes equal, low nibble 0xa.
 */
export function isGrease(code: number): boolean {
  return (code & 0x0f0f) === 0x0a0a && code >> 8 === (code & 0xff);
}

/** RFC 8701 GREASE for the one-byte psk_key_exchange_modes: 0x0b, 0x2a, 0x49 … 0xe5 (0x1f·n + 0x0b). */
export function isGreasePskMode(code: number): boolean {
  return code <= 0xff && (code - 0x0b) % 0x1f === 0 && code >= 0x0b;
}
