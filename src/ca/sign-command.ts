// The `sign` action of `tlsecho ca`: signs a CSR and says what it issued. With no --cert-out the
// certificate goes to standard output (for `> cert.pem`) and the summary to standard error.
import { UsageError } from '../config/errors.js';
import { signCsr, type SignRequest } from './sign-csr.js';

export async function signAction(req: Omit<SignRequest, 'csrFile'> & { csrFile?: string }): Promise<number> {
  if (!req.csrFile) throw new UsageError("'tlsecho ca sign' needs --csr FILE (e.g. from 'openssl req -new')");
  const r = await signCsr({ ...req, csrFile: req.csrFile });
  const summary = `names: ${r.names.join(', ')}; valid until ${r.validTo.toISOString()}`;
  if (r.certOut) process.stdout.write(`certificate ${r.certOut}\n  ${summary}\n`);
  else {
    process.stdout.write(r.certPem);
    process.stderr.write(`signed ${req.csrFile}: ${summary}\n`);
  }
  return 0;
}
