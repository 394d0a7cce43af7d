// Across hosts: two network namespaces joined by a veth pair stand in for two machines. The server
// and the DNS server run on 10.203.0.1, the client on 10.203.0.2; the server must see the client's
// own address (not loopback) and the names must have been resolved through the DNS server.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, cleanEnv, waitForLine } from '../helpers/cli.js';
import { makePki, tempDir, type TestPki } from '../helpers/pki.js';
import { skipUnless } from '../helpers/requirements.js';

const SERVER_IP = '10.203.0.1';
const CLIENT_IP = '10.203.0.2';
const NAMES = ['server1.tlsecho.test', 'server2.tlsecho.test', 'server3.tlsecho.test'];

const id = randomBytes(3).toString('hex');
const NS_SERVER = `tlse-s-${id}`;
const NS_CLIENT = `tlse-c-${id}`;

function ip(...args: string[]): { ok: boolean; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, err: (r.stderr || r.error?.message || '').trim() };
}

/** Why namespaces cannot be made here, or undefined when they can. */
function netnsUnavailable(): string | undefined {
  const probe = `tlse-p-${id}`;
  const r = ip('netns', 'add', probe);
  if (!r.ok) return `'ip netns add' is not permitted here (${r.err || 'ip not installed'})`;
  ip('netns', 'del', probe);
  return undefined;
}

const unavailable = skipUnless('NETNS', netnsUnavailable());

function inNamespace(ns: string, args: string[]): ChildProcess & { output: () => string } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  return Object.assign(child, { output: () => out });
}

function run(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('client and server on two hosts (network namespaces)', { skip: unavailable }, () => {
  const t = tempDir();
  let pki: TestPki;
  const children: ChildProcess[] = [];
  let dns: ReturnType<typeof inNamespace>;
  let server: ReturnType<typeof inNamespace>;

  before(async () => {
    const veth = [`vs${id}`, `vc${id}`] as const;
    const steps: string[][] = [
      ['netns', 'add', NS_SERVER],
      ['netns', 'add', NS_CLIENT],
      ['link', 'add', veth[0], 'type', 'veth', 'peer', 'name', veth[1]],
      ['link', 'set', veth[0], 'netns', NS_SERVER],
      ['link', 'set', veth[1], 'netns', NS_CLIENT],
      ['-n', NS_SERVER, 'addr', 'add', `${SERVER_IP}/24`, 'dev', veth[0]],
      ['-n', NS_CLIENT, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', veth[1]],
      ['-n', NS_SERVER, 'link', 'set', veth[0], 'up'],
      ['-n', NS_CLIENT, 'link', 'set', veth[1], 'up'],
      ['-n', NS_SERVER, 'link', 'set', 'lo', 'up'],
      ['-n', NS_CLIENT, 'link', 'set', 'lo', 'up'],
    ];
    for (const step of steps) {
      const r = ip(...step);
      if (!r.ok) throw new Error(`ip ${step.join(' ')}: ${r.err}`);
    }
    pki = await makePki(join(t.dir, 'certs'));
    dns = inNamespace(NS_SERVER, ['dns', '--host', SERVER_IP, '--port', '53', '--address', SERVER_IP]);
    children.push(dns);
    server = inNamespace(NS_SERVER, [
      'server',
      ...['--host', SERVER_IP, '--https-port', '8443', '--http-port', '8080'],
      ...['--cert-file', pki.server!.cert, '--key-file', pki.server!.key, '--ca-file', pki.root.cert],
    ]);
    children.push(server);
    // Both waits start now, before either process can print, so no line is missed.
    await Promise.all([waitForLine(dns, /dns ready/, 15_000), waitForLine(server, /\bready\b/, 20_000)]);
  });

  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // Deleting a namespace removes its end of the veth pair, and with it the other end.
    ip('netns', 'del', NS_SERVER);
    ip('netns', 'del', NS_CLIENT);
    t.cleanup();
  });

  it('the server echoes the client host address, and the names came from DNS', async () => {
    const client = inNamespace(NS_CLIENT, [
      'client',
      ...['--dns', `${SERVER_IP}:53`, '--ca-fingerprint', pki.root.fingerprint.hex],
      ...['--count', '12', '--interval', '0', '--timeout', '5s', '--wait-timeout', '10s'],
    ]);
    children.push(client);
    const code = await run(client, 60_000);
    const out = client.output();
    assert.equal(code, 0, out);
    const answers = [...out.matchAll(/ (\S+) -> ([\d.]+):8443 TLSv1\.[23] [\d.]+ms: (.*)$/gm)];
    assert.equal(answers.length, 12, out);
    for (const [, name, address, body] of answers) {
      assert.equal(address, SERVER_IP, 'resolved to the server host');
      assert.equal(body, `Client connection from ${CLIENT_IP} to server ${name}`);
    }
    // The DNS server on the other host logged the client's queries for the names it called.
    const called = new Set(answers.map((m) => m[1]!));
    for (const name of called)
      assert.match(
        dns.output(),
        new RegExp(
          `query A ${name.replace(/\./g, '\\.')} from ${CLIENT_IP.replace(/\./g, '\\.')} \\(udp\\) -> ${SERVER_IP.replace(/\./g, '\\.')}`,
          'i',
        ),
      );
    assert.ok([...called].every((n) => NAMES.includes(n)));
    assert.match(out, /^summary: 12 requests, 12 ok, 0 failed$/m);
  });
});
