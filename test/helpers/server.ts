// The real tlsecho server, in this process, on ephemeral loopback ports, serving a test PKI.
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';
import type { Logger } from 'pino';
import type { TestPki } from './pki.js';

export function startWithPki(
  pki: TestPki,
  extra: Partial<ServerOptions> & { logger?: Logger } = {},
): Promise<RunningServer> {
  return startServer({
    certFile: pki.server!.cert,
    keyFile: pki.server!.key,
    caFile: pki.root.cert,
    httpsPort: 0,
    httpPort: 0,
    ...extra,
  } as ServerOptions);
}
