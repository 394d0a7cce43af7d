// The trust stores beyond NSS: the Linux system store (Debian/Ubuntu's update-ca-certificates,
// Fedora/RHEL's update-ca-trust), which curl, OpenSSL, Go, Python and `node --use-system-ca`
// read, and Java's cacerts keystore (keytool). Each change needs the rights of the store's owner,
// usually root; without them nothing is touched and the exact command is given instead.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { lastLine, onPath } from '../util/tools.js';
import { pemBody } from './pem.js';
import type { Outcome, TrustedRoot } from './trust-store.js';

export interface StoreChange {
  store: 'system' | 'java';
  /** Where, for the report: the anchor file and bundle, or the keystore. */
  where: string;
  outcome?: Outcome;
  /** Why nothing was done, with the command that would do it. */
  needs?: string;
  error?: string;
}

const TOOL_TIMEOUT_MS = 120_000;

// update-ca-certificates lives in sbin, which a non-root PATH often leaves out.
const which = (name: string) => onPath(name, ['/usr/sbin', '/sbin']);

function run(cmd: string, args: string[]): { ok: boolean; why: string; stdout: string } {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: TOOL_TIMEOUT_MS,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) return { ok: false, why: r.error.message, stdout: '' };
  return { ok: r.status === 0, why: lastLine(r.stderr, r.stdout, r.status), stdout: r.stdout };
}

const isRoot = () => process.getuid?.() === 0;

/** `tlsecho-<first 16 hex digits of the SHA-256>`: names this root's entries in every store. */
const entryName = (root: TrustedRoot) =>
  `tlsecho-${root.sha256.replace(/:/g, '').slice(0, 16).toLowerCase()}`;

// ---- Linux system store -------------------------------------------------------------------

interface SystemFlavor {
  /** Folder of local anchors the update tool reads. */
  dir: string;
  ext: string;
  update: string[];
  /** The generated bundle that OpenSSL-based programs read. */
  bundle: string;
}

const FLAVORS: SystemFlavor[] = [
  {
    dir: '/usr/local/share/ca-certificates',
    ext: '.crt', // update-ca-certificates reads *.crt only
    update: ['update-ca-certificates'],
    bundle: '/etc/ssl/certs/ca-certificates.crt',
  },
  {
    dir: '/etc/pki/ca-trust/source/anchors',
    ext: '.pem',
    update: ['update-ca-trust', 'extract'],
    bundle: '/etc/pki/tls/certs/ca-bundle.crt',
  },
];

export function systemFlavor(): SystemFlavor | undefined {
  return FLAVORS.find((f) => which(f.update[0]!) && existsSync(dirname(f.dir)));
}

function systemAnchor(f: SystemFlavor, root: TrustedRoot): string {
  return join(f.dir, `${entryName(root)}${f.ext}`);
}

/** Whether the generated system bundle holds this root (however it got there). */
export function inSystemBundle(f: SystemFlavor, root: TrustedRoot): boolean {
  try {
    return pemBody(readFileSync(f.bundle, 'utf8')).includes(pemBody(root.pem));
  } catch {
    return false;
  }
}

/** What a change of the system store lacks (its tool, or root), before anything is touched. */
export function systemPrecheck(): string | undefined {
  if (!systemFlavor())
    return 'no update-ca-certificates (Debian/Ubuntu) or update-ca-trust (Fedora/RHEL) found';
  if (!isRoot()) return 'root rights (run with sudo)';
  return undefined;
}

/** What a change of Java's cacerts lacks (keytool, or write access), before anything is touched. */
export function javaPrecheck(): string | undefined {
  const tool = keytool();
  if (!tool) return 'keytool (set JAVA_HOME or put it on PATH)';
  if (!writable(javaCacerts(tool))) return `write access to ${javaCacerts(tool)} (run with sudo)`;
  return undefined;
}

export function systemChange(root: TrustedRoot, action: 'install' | 'uninstall'): StoreChange {
  const f = systemFlavor();
  if (!f)
    return {
      store: 'system',
      where: 'system store',
      error: 'no update-ca-certificates (Debian/Ubuntu) or update-ca-trust (Fedora/RHEL) found',
    };
  const anchor = systemAnchor(f, root);
  const where = `system store ${anchor} (${f.bundle})`;
  const update = f.update.join(' ');
  if (action === 'install') {
    const same = existsSync(anchor) && pemBody(readFileSync(anchor, 'utf8')) === pemBody(root.pem);
    if (same && inSystemBundle(f, root)) return { store: 'system', where, outcome: 'already present' };
    if (!isRoot())
      return { store: 'system', where, needs: `root; run: sudo cp ${root.path} ${anchor} && sudo ${update}` };
    writeFileSync(anchor, root.pem, { mode: 0o644 });
    const r = run(which(f.update[0]!)!, f.update.slice(1));
    if (!r.ok || !inSystemBundle(f, root)) {
      rmSync(anchor, { force: true }); // leave the store as it was
      run(which(f.update[0]!)!, f.update.slice(1));
      return {
        store: 'system',
        where,
        error: `${update} failed: ${r.ok ? 'the root is not in the bundle' : r.why}`,
      };
    }
    return { store: 'system', where, outcome: 'added' };
  }
  if (!existsSync(anchor)) return { store: 'system', where, outcome: 'not present' };
  if (!isRoot()) return { store: 'system', where, needs: `root; run: sudo rm ${anchor} && sudo ${update}` };
  const saved = readFileSync(anchor);
  rmSync(anchor);
  const r = run(which(f.update[0]!)!, f.update.slice(1));
  if (!r.ok) {
    writeFileSync(anchor, saved, { mode: 0o644 });
    run(which(f.update[0]!)!, f.update.slice(1));
    return { store: 'system', where, error: `${update} failed: ${r.why}` };
  }
  dropDebianJavaCopy(anchor);
  return { store: 'system', where, outcome: 'removed' };
}

/**
 * Debian's ca-certificates-java hook copies every system anchor into Java's cacerts (as
 * `debian:<name>.pem`) but does not take a removed one out again; do it, so that uninstalling
 * from the system store leaves no trace of the root.
 */
function dropDebianJavaCopy(anchor: string): void {
  const tool = keytool();
  if (!tool || !writable(javaCacerts(tool))) return;
  const name = `debian:${anchor
    .split('/')
    .pop()!
    .replace(/\.crt$/, '.pem')}`;
  if (run(tool, ['-list', '-cacerts', '-storepass', JAVA_STOREPASS, '-alias', name]).ok)
    run(tool, ['-delete', '-cacerts', '-storepass', JAVA_STOREPASS, '-alias', name]);
}

// ---- Java cacerts -------------------------------------------------------------------------

/** The password every JDK ships cacerts with. */
const JAVA_STOREPASS = 'changeit';

/** keytool of $JAVA_HOME, else the one on PATH. */
export function keytool(): string | undefined {
  const home = process.env.JAVA_HOME;
  if (home) {
    const k = join(home, 'bin', 'keytool');
    if (existsSync(k)) return k;
  }
  return which('keytool');
}

/** The cacerts file keytool -cacerts uses (for the report and for the rights check). */
export function javaCacerts(tool: string): string {
  // /usr/bin/keytool is a link (Debian's alternatives) to <java home>/bin/keytool.
  return join(dirname(dirname(realpathSync(tool))), 'lib', 'security', 'cacerts');
}

/** Whether cacerts holds this root under any alias (Debian's hook adds system roots as debian:…). */
export function inJavaStore(tool: string, root: TrustedRoot): boolean {
  const r = run(tool, ['-list', '-cacerts', '-storepass', JAVA_STOREPASS]);
  return r.ok && r.stdout.toUpperCase().includes(root.sha256.toUpperCase());
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function javaChange(root: TrustedRoot, action: 'install' | 'uninstall'): StoreChange {
  const tool = keytool();
  if (!tool)
    return {
      store: 'java',
      where: 'Java cacerts',
      error: 'keytool not found (set JAVA_HOME or put it on PATH)',
    };
  const cacerts = javaCacerts(tool);
  const where = `Java cacerts ${cacerts}`;
  const a = entryName(root);
  const has = run(tool, ['-list', '-cacerts', '-storepass', JAVA_STOREPASS, '-alias', a]).ok;
  if (action === 'install' && has) return { store: 'java', where, outcome: 'already present' };
  if (action === 'uninstall' && !has) return { store: 'java', where, outcome: 'not present' };
  const args =
    action === 'install'
      ? [
          '-importcert',
          '-noprompt',
          '-cacerts',
          '-storepass',
          JAVA_STOREPASS,
          '-alias',
          a,
          '-file',
          root.path,
        ]
      : ['-delete', '-cacerts', '-storepass', JAVA_STOREPASS, '-alias', a];
  if (!writable(cacerts))
    return { store: 'java', where, needs: `write access; run: sudo ${tool} ${args.join(' ')}` };
  const r = run(tool, args);
  if (!r.ok) return { store: 'java', where, error: `keytool failed: ${r.why}` };
  return { store: 'java', where, outcome: action === 'install' ? 'added' : 'removed' };
}
