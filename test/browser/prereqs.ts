// Browser tests need Debian's chromium, firefox-esr and libnss3-tools. Missing tools skip the
// test with the reason, unless TLSECHO_REQUIRE_BROWSERS=1 (CI), where they fail it instead.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { skipUnless } from '../helpers/requirements.js';

export const CHROMIUM = '/usr/bin/chromium';
export const FIREFOX = '/usr/bin/firefox-esr';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && executable(join(d, name)));
}

const PACKAGE: Record<string, string> = {
  certutil: 'libnss3-tools',
  [CHROMIUM]: 'chromium',
  [FIREFOX]: 'firefox-esr',
};

/**
 * The `skip` option for node:test: false when every tool is there, else the reason. With
 * TLSECHO_REQUIRE_BROWSERS=1 a missing tool throws, so the test file fails loudly.
 */
export function needTools(...tools: string[]): false | string {
  const missing = tools.filter((t) => !(t.startsWith('/') ? executable(t) : onPath(t)));
  return skipUnless(
    'BROWSERS',
    missing.length === 0
      ? undefined
      : `missing ${missing.map((t) => `${t} (Debian package ${PACKAGE[t] ?? t})`).join(', ')}`,
  );
}
