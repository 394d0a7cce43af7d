// Go's crypto/x509, a verifier with its own chain building and name-constraint code, against the
// CA's two-tier, name-constrained chains: the served chain verifies for names inside, the leaf
// alone does not, and a leaf outside the constraints (from the test helper that skips the CA's
// refusal) is refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { skipUnless } from '../helpers/requirements.js';
import { issueUncheckedLeaf, makePki, tempDir, type TestPki } from '../helpers/pki.js';

const go = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;

const VERIFY_GO = `package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// verify ROOT CHAIN NAME: CHAIN is the leaf, then the certificates a server would send.
func main() {
	roots := x509.NewCertPool()
	rootPEM, err := os.ReadFile(os.Args[1])
	if err != nil || !roots.AppendCertsFromPEM(rootPEM) {
		fmt.Println("cannot load root", err)
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		certs = append(certs, c)
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	_, err = certs[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		DNSName:       os.Args[3],
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
`;

describe(
  'Go crypto/x509 and the CA',
  { skip: skipUnless('TOOLS', go ? undefined : 'no go toolchain (apt-get install golang-go)') },
  () => {
    const t = tempDir();
    const bin = join(t.dir, 'verify');
    let pki: TestPki;
    before(async () => {
      writeFileSync(join(t.dir, 'verify.go'), VERIFY_GO);
      const build = spawnSync('go', ['build', '-o', bin, join(t.dir, 'verify.go')], {
        encoding: 'utf8',
        timeout: 300_000,
        env: {
          ...process.env,
          GOPROXY: 'off',
          GOFLAGS: '',
          GOCACHE: join(t.dir, 'gocache'),
          GO111MODULE: 'off',
        },
      });
      assert.equal(build.status, 0, build.stdout + build.stderr);
      pki = await makePki(join(t.dir, 'certs'), {
        intermediate: true,
        nameConstraints: ['tlsecho.test', 'localhost', '127.0.0.0/8', '::1/128'],
      });
    });
    after(t.cleanup);

    const verify = (chain: string, name: string) =>
      spawnSync(bin, [pki.root.cert, chain, name], { encoding: 'utf8', timeout: 30_000 });

    it('verifies the leaf + intermediate chain for every name inside the constraints', () => {
      for (const name of ['server1.tlsecho.test', 'localhost', '127.0.0.1', '::1']) {
        const r = verify(pki.server!.cert, name);
        assert.equal(r.status, 0, `${name}: ${r.stdout}`);
      }
    });

    it('does not verify the leaf without its intermediate', () => {
      const leafOnly = join(t.dir, 'leaf-only.pem');
      writeFileSync(leafOnly, pki.certPem.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!);
      const r = verify(leafOnly, 'localhost');
      assert.equal(r.status, 1);
      assert.match(r.stdout, /certificate signed by unknown authority/);
    });

    it('refuses a leaf outside the constraints, by DNS name and by IP address', async () => {
      for (const [dns, ip, name] of [
        ['bank.example', [], 'bank.example'],
        ['localhost', ['10.0.0.1'], '10.0.0.1'],
      ] as const) {
        const bad = await issueUncheckedLeaf(pki.out, [dns], [...ip]);
        const file = join(t.dir, `outside-${name}.pem`);
        writeFileSync(file, bad.certPem);
        const r = verify(file, name);
        assert.equal(r.status, 1, r.stdout);
        assert.match(
          r.stdout,
          /is not authorized to sign for this name: .* is not permitted by any constraint/,
        );
      }
    });
  },
);
