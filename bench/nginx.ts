// The reference: nginx on loopback with the same certificate, TLS settings and answers as tlsecho,
// HTTP/2 on by ALPN as tlsecho's default `--alpn h2,http/1.1` (wrk and openssl offer no ALPN, so
// they speak HTTP/1.1 to both; h2load asks for h2).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { CommandError } from '../src/config/errors.js';
import { INTERMEDIATE_CIPHERS } from '../src/server/tls-context.js';
import { freePort, HOST, waitForPort } from './ports.js';
import { startGroup } from './processes.js';

/** tlsecho's Mozilla "intermediate" TLS 1.2 ciphers (nginx takes the TLS 1.3 suites separately;
 * OpenSSL's defaults are the same three). */
export const TLS12_CIPHERS = INTERMEDIATE_CIPHERS.split(':')
  .filter((c) => !c.startsWith('TLS_'))
  .join(':');

// The JSON form carries the same facts tlsecho's does (client address, SNI, Host, TLS version,
// cipher, ALPN, resumption, serving host), built by nginx from its variables.
const JSON_BODY =
  '{"client_ip":"$remote_addr","client_port":$remote_port,"sni":"$ssl_server_name","host":"$host",' +
  '"tls_version":"$ssl_protocol","cipher":"$ssl_cipher","alpn":"$ssl_alpn_protocol",' +
  '"resumed":"$ssl_session_reused","hostname":"$hostname"}\\n';

export function nginxConfig(o: { dir: string; port: number; cert: string; key: string; accessLog: boolean }) {
  const tmp = join(o.dir, 'tmp');
  return `# written by tlsecho's bench: nginx as the reference for the same work
daemon off;
master_process on;
worker_processes auto;
pid ${join(o.dir, 'nginx.pid')};
error_log ${join(o.dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  ${o.accessLog ? `access_log ${join(o.dir, 'access.log')};` : 'access_log off;'}
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  default_type text/plain;
  # Node's server does not cap requests per connection; neither does this nginx (default 1000).
  keepalive_requests 1000000;
  server {
    listen ${HOST}:${o.port} ssl http2;
    ssl_certificate ${o.cert};
    ssl_certificate_key ${o.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ${TLS12_CIPHERS};
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:bench:10m;
    ssl_session_tickets on;
    location = / {
      if ($http_accept ~* "application/json") { rewrite ^ /.json last; }
      return 200 "Client connection from $remote_addr to server $ssl_server_name\\n";
    }
    location = /.json {
      internal;
      default_type application/json;
      return 200 '${JSON_BODY}';
    }
    location = /ping { return 200 "pong\\n"; }
  }
}
`;
}

export interface RunningNginx {
  child: ChildProcess;
  port: number;
}

export async function startNginx(o: {
  nginx: string;
  dir: string;
  cert: string;
  key: string;
  accessLog: boolean;
}): Promise<RunningNginx> {
  mkdirSync(join(o.dir, 'tmp'), { recursive: true });
  const port = await freePort();
  const conf = join(o.dir, 'nginx.conf');
  const errorLog = join(o.dir, 'error.log');
  writeFileSync(conf, nginxConfig({ ...o, port }));
  const child = startGroup(o.nginx, ['-p', o.dir, '-c', conf, '-e', errorLog]);
  const log = () => (existsSync(errorLog) ? readFileSync(errorLog, 'utf8').trim().split('\n').pop() : '');
  try {
    await waitForPort(port, () =>
      child.exitCode !== null ? `nginx exited (${child.exitCode}): ${log()}` : undefined,
    );
  } catch (err) {
    throw new CommandError(`nginx did not start: ${(err as Error).message}`);
  }
  return { child, port };
}
