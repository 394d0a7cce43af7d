// PKCS#12 (RFC 7292) bundles of a leaf's key, certificate and chain, for what imports no PEM:
// browsers' certificate managers, NSS's pk12util, Java keystores, Windows and macOS. Built with
// PKIjs: the key bag and the certificates are encrypted with PBES2 (PBKDF2-HMAC-SHA-256,
// AES-256-CBC), the whole file is MACed with HMAC-SHA-256 (RFC 9579's modern profile, what
// OpenSSL 3 writes by default).
import { webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
pkijs.setEngine(
  'node',
  new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as EngineCrypto }),
);

/** OpenSSL 3's default PBKDF2 and MAC iteration count. */
const ITERATIONS = 2048;

const OID = {
  keyBag: '1.2.840.113549.1.12.10.1.2', // pkcs8ShroudedKeyBag
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
};

export interface P12Input {
  /** PKCS#8 DER of the private key. */
  keyDer: Uint8Array;
  /** DER certificates: the leaf first, then its chain up to the root. */
  certDers: Uint8Array[];
  /** Shown by importers (NSS nickname, keychain label). */
  friendlyName: string;
  password: string;
}

const buffer = (u: Uint8Array): ArrayBuffer =>
  u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;

function fromBer<T>(der: Uint8Array, make: (schema: asn1js.AsnType) => T): T {
  const asn = asn1js.fromBER(buffer(der));
  if (asn.offset === -1) throw new Error('not DER');
  return make(asn.result);
}

/** localKeyId ties the key to its certificate; friendlyName names them for the importer. */
function attributes(localKeyId: ArrayBuffer, name?: string): pkijs.Attribute[] {
  return [
    new pkijs.Attribute({ type: OID.localKeyId, values: [new asn1js.OctetString({ valueHex: localKeyId })] }),
    ...(name
      ? [new pkijs.Attribute({ type: OID.friendlyName, values: [new asn1js.BmpString({ value: name })] })]
      : []),
  ];
}

/** The DER of a password-protected PKCS#12 file. */
export async function buildP12(input: P12Input): Promise<Uint8Array> {
  const [leafDer, ...chainDers] = input.certDers;
  if (!leafDer) throw new Error('a PKCS#12 bundle needs a certificate');
  const password = buffer(new TextEncoder().encode(input.password));
  const localKeyId = await webcrypto.subtle.digest('SHA-1', buffer(leafDer));
  const encryption = {
    password,
    contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 },
    hmacHashAlgorithm: 'SHA-256',
    iterationCount: ITERATIONS,
  };

  const keyBag = new pkijs.PKCS8ShroudedKeyBag({
    parsedValue: fromBer(input.keyDer, (schema) => new pkijs.PrivateKeyInfo({ schema })),
  });
  await keyBag.makeInternalValues(encryption);

  const certBag = (der: Uint8Array, leaf: boolean) =>
    new pkijs.SafeBag({
      bagId: OID.certBag,
      bagValue: new pkijs.CertBag({
        certId: OID.x509Certificate,
        parsedValue: fromBer(der, (schema) => new pkijs.Certificate({ schema })),
      }),
      ...(leaf ? { bagAttributes: attributes(localKeyId, input.friendlyName) } : {}),
    });

  const pfx = new pkijs.PFX({
    parsedValue: {
      integrityMode: 0, // password-based MAC
      authenticatedSafe: new pkijs.AuthenticatedSafe({
        parsedValue: {
          safeContents: [
            {
              privacyMode: 0, // the key bag is already encrypted
              value: new pkijs.SafeContents({
                safeBags: [
                  new pkijs.SafeBag({
                    bagId: OID.keyBag,
                    bagValue: keyBag,
                    bagAttributes: attributes(localKeyId, input.friendlyName),
                  }),
                ],
              }),
            },
            {
              privacyMode: 1, // password-encrypted
              value: new pkijs.SafeContents({
                safeBags: [certBag(leafDer, true), ...chainDers.map((d) => certBag(d, false))],
              }),
            },
          ],
        },
      }),
    },
  });
  await pfx.parsedValue!.authenticatedSafe!.makeInternalValues({ safeContents: [{}, encryption] });
  await pfx.makeInternalValues({
    password,
    iterations: ITERATIONS,
    pbkdf2HashAlgorithm: 'SHA-256',
    hmacHashAlgorithm: 'SHA-256',
  });
  return new Uint8Array(pfx.toSchema().toBER(false));
}
