// The pods without Kubernetes: each server runs with its Deployment's own args and the files of
// its rendered Secret (laid out as kubelet mounts them), the probes are asked on the plain-HTTP
// port, and each client runs with its Deployment's args and the rendered root ConfigMap, its names
// answered by a local DNS server in place of the cluster DNS. Only ports and mount paths change.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serverNames } from '../../src/config/shared.js';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { runCli, startCli, waitForLine } from '../helpers/cli.js';
import {
  argValue,
  find,
  kustomize,
  prepare,
  skipUnlessTools,
  type K8sObject,
  type Rendered,
} from './render.js';

/** Writes a Secret's or ConfigMap's keys into `dir` as kubelet would (keys 0600 here). */
function mount(dir: string, data: Record<string, string>, base64: boolean): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [key, value] of Object.entries(data))
    writeFileSync(join(dir, key), base64 ? Buffer.from(value, 'base64') : value, {
      mode: key.endsWith('.key') ? 0o600 : 0o644,
    });
  return dir;
}

/** The container's args with its volume mount paths pointed at local folders. */
function localArgs(d: K8sObject, folders: Record<string, string>): string[] {
  const c = d.spec.template.spec.containers[0];
  return (c.args as string[]).map((a) => {
    for (const m of c.volumeMounts as K8sObject[]) {
      const local = folders[m.name];
      assert.ok(local, `${d.metadata.name}: a local folder for volume ${m.name}`);
      if (a.includes(`=${m.mountPath}/`)) return a.replace(`=${m.mountPath}/`, `=${local}/`);
    }
    return a;
  });
}

function withPort(args: string[], flag: string, port: number): string[] {
  assert.ok(argValue(args, flag), `--${flag} is set`);
  return args.map((a) => (a.startsWith(`--${flag}=`) ? `--${flag}=${port}` : a));
}

function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

interface RunningServer {
  child: ChildProcess;
  httpsPort: number;
  httpPort: number;
}

describe('the pods, run locally with their rendered args and mounts', { skip: skipUnlessTools() }, () => {
  let r: Rendered;
  let objects: K8sObject[];
  const children: ChildProcess[] = [];
  const dnsServers: DnsServer[] = [];
  before(() => {
    r = prepare();
    objects = kustomize(join(r.k8sDir, 'overlays/tlsecho-ca'));
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of dnsServers) await d.close();
    r?.cleanup();
  });

  async function startServer(name: string): Promise<RunningServer> {
    const d = find(objects, 'Deployment', name);
    const volume = d.spec.template.spec.volumes.find((v: K8sObject) => v.secret);
    const secret = find(objects, 'Secret', volume.secret.secretName);
    const tls = mount(join(r.dir, 'mounts', name, volume.name), secret.data, true);
    let args = localArgs(d, { [volume.name]: tls });
    args = withPort(withPort(args, 'https-port', 0), 'http-port', 0);
    const child = startCli(['server', ...args]);
    children.push(child);
    const ready = await waitForLine(child, /\bready\b.*https_port/, 20_000);
    const port = (key: string) => Number(new RegExp(`${key}["=:]+(\\d+)`).exec(ready)?.[1]);
    return { child, httpsPort: port('https_port'), httpPort: port('http_port') };
  }

  async function runClient(name: string, server: RunningServer, count: number) {
    const d = find(objects, 'Deployment', name);
    const volume = d.spec.template.spec.volumes[0];
    const ca = mount(
      join(r.dir, 'mounts', name, volume.name),
      find(objects, 'ConfigMap', volume.configMap.name).data,
      false,
    );
    const args = localArgs(d, { [volume.name]: ca });
    const names = argValue(args, 'names')?.split(',') ?? serverNames(argValue(args, 'domain')!);
    // The cluster DNS, for the names exactly as the client asks them.
    const zone = names.length === 1 ? names[0]! : names[0]!.split('.').slice(1).join('.');
    const dns = await startDnsServer({
      zone,
      records: Object.fromEntries(names.map((n) => [n, ['127.0.0.1']])),
    });
    dnsServers.push(dns);
    const all = [
      ...withPort(args, 'port', server.httpsPort),
      `--count=${count}`,
      '--interval=0',
      `--dns=${dns.address}`,
    ];
    return { names, result: await runCli(['client', ...all], { timeoutMs: 30_000 }) };
  }

  async function stop(server: RunningServer, name: string): Promise<void> {
    const exited = server.child.exitCode !== null ? [server.child.exitCode] : undefined;
    if (!exited) server.child.kill('SIGTERM');
    // Bounded: the pod's terminationGracePeriodSeconds is 30 s; after() kills a process left over.
    const [code] =
      exited ??
      ((await once(server.child, 'exit', { signal: AbortSignal.timeout(30_000) })) as [number | null]);
    assert.equal(code, 0, `${name} exits 0 on SIGTERM`);
  }

  for (const [serverName, clientName] of [
    ['ponger', 'pinger'],
    ['echo-server', 'echo-client'],
  ] as const)
    it(`${clientName} -> ${serverName}: probes answer, the client verifies every name, SIGTERM exits 0`, async () => {
      const server = await startServer(serverName);
      const c = find(objects, 'Deployment', serverName).spec.template.spec.containers[0];
      for (const probe of ['readinessProbe', 'livenessProbe'])
        assert.equal(await httpStatus(server.httpPort, c[probe].httpGet.path), 200, `${serverName} ${probe}`);

      const { names, result } = await runClient(clientName, server, 6);
      assert.equal(
        result.code,
        0,
        `${clientName} exit code; stderr:\n${result.stderr}\nstdout:\n${result.stdout}`,
      );
      if (clientName === 'pinger') {
        assert.match(result.stdout, /Sent ping/);
        assert.match(result.stdout, /Got pong from ponger/);
      } else {
        // `<time> <name> -> <address>:<port> <tls> <latency>: Client connection from <ip> to server <sni>`
        const echoes = [
          ...result.stdout.matchAll(/(\S+) -> \S+ .*: Client connection from (\S+) to server (\S+)$/gm),
        ];
        assert.ok(echoes.length > 0, `echo lines in:\n${result.stdout}`);
        for (const [, name, ip, sni] of echoes) {
          assert.ok(names.includes(name!), `${name} is one of ${names.join(', ')}`);
          assert.equal(sni, name, 'the server saw the name the client called, as SNI');
          assert.equal(ip, '127.0.0.1');
        }
      }
      await stop(server, serverName);
    });
});
