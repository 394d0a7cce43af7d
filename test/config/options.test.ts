// The configuration layer: flags over environment over YAML file over defaults, with errors that
// name the option and where its bad value came from.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../src/config/errors.js';
import { command as serverCommand } from '../../src/server/command.js';
import { helpText, opt, parseDuration, resolveOptions } from '../../src/config/options.js';
import { tempDir } from '../helpers/pki.js';

const table = {
  port: opt({ kind: 'int', min: 1, max: 65535, default: 8443, description: 'port' }),
  domain: opt({ kind: 'string', env: 'MX_domain', default: 'tlsecho.test', description: 'domain' }),
  names: opt({ kind: 'list', description: 'names' }),
  interval: opt({ kind: 'duration', default: 1000, description: 'interval' }),
  mode: opt({ kind: 'string', choices: ['echo', 'ping'] as const, default: 'echo', description: 'mode' }),
  verbose: opt({ kind: 'bool', default: false, description: 'verbose' }),
  'ca-file': opt({ kind: 'string', env: 'MX_cafile', description: 'root' }),
};

describe('resolveOptions', () => {
  const t = tempDir();
  after(t.cleanup);
  const yaml = join(t.dir, 'config.yaml');
  writeFileSync(
    yaml,
    'port: 9443\ndomain: from-file.test\nnames: [a.test, b.test]\ninterval: 250ms\ncaFile: /file/ca.pem\n',
  );

  it('uses defaults when nothing is given', () => {
    const { values } = resolveOptions(table, [], {});
    assert.deepEqual(values, {
      port: 8443,
      domain: 'tlsecho.test',
      names: undefined,
      interval: 1000,
      mode: 'echo',
      verbose: false,
      'ca-file': undefined,
    });
  });

  it('takes the YAML file, then the environment, then flags, each over the one before', () => {
    const fileOnly = resolveOptions(table, ['--config', yaml], {}).values;
    assert.equal(fileOnly.port, 9443);
    assert.deepEqual(fileOnly.names, ['a.test', 'b.test']);
    assert.equal(fileOnly.interval, 250);
    assert.equal(fileOnly['ca-file'], '/file/ca.pem', 'camelCase keys map to kebab-case options');
    const env = { TLSECHO_PORT: '10443', MX_domain: 'env.test', TLSECHO_CONFIG: yaml };
    const envOver = resolveOptions(table, [], env).values;
    assert.equal(envOver.port, 10443);
    assert.equal(envOver.domain, 'env.test');
    assert.equal(envOver.interval, 250, 'TLSECHO_CONFIG names the file');
    const flagOver = resolveOptions(
      table,
      ['--port', '11443', '--names', 'x.test, y.test', '--verbose'],
      env,
    ).values;
    assert.equal(flagOver.port, 11443);
    assert.deepEqual(flagOver.names, ['x.test', 'y.test']);
    assert.equal(flagOver.verbose, true);
  });

  it('turns a switch off with --no-<name>, over the environment, and shows both forms in --help', () => {
    const on = { ...table, log: opt({ kind: 'bool', default: true, description: 'log' }) };
    assert.equal(resolveOptions(on, [], {}).values.log, true);
    assert.equal(resolveOptions(on, ['--no-log'], {}).values.log, false);
    assert.equal(resolveOptions(on, ['--no-log'], { TLSECHO_LOG: 'true' }).values.log, false);
    assert.equal(resolveOptions(on, ['--log'], { TLSECHO_LOG: 'false' }).values.log, true);
    assert.match(helpText('x', 'x', 'x', on), /^ {2}--\[no-\]log +log \[default: true\]/m);
    assert.match(helpText('x', 'x', 'x', on), /^ {2}--verbose +verbose \[default: false\]/m);
  });

  it('refuses a value after a switch instead of ignoring it (the command would run with the switch on)', async () => {
    await assert.rejects(
      // A missing certificate ends a run that got past the check before it listens.
      serverCommand.run(['--access-log', 'false', '--cert-file', '/nonexistent/cert.pem'], {}),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          "unexpected argument 'false': --access-log is a switch and takes no value; write --no-access-log instead",
    );
    // The same word as an option's value first: the message still names the switch.
    await assert.rejects(
      serverCommand.run(
        ['--host', 'false', '--access-log', 'false', '--cert-file', '/nonexistent/cert.pem'],
        {},
      ),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          "unexpected argument 'false': --access-log is a switch and takes no value; write --no-access-log instead",
    );
    await assert.rejects(
      serverCommand.run(['extra', '--cert-file', '/nonexistent/cert.pem'], {}),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === "unexpected argument 'extra' (run with --help for the options)",
    );
  });

  it('reports positionals and --help', () => {
    const r = resolveOptions(table, ['fingerprint', '--help'], {});
    assert.deepEqual(r.positionals, ['fingerprint']);
    assert.equal(r.help, true);
  });

  it('names the option and the source of a bad value', () => {
    const err = (argv: string[], env: NodeJS.ProcessEnv, re: RegExp) =>
      assert.throws(
        () => resolveOptions(table, argv, env),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
      );
    err(['--port', '70000'], {}, /^invalid --port: "70000" is not an integer from 1 to 65535$/);
    err(
      [],
      { TLSECHO_PORT: 'abc' },
      /^invalid --port \(from environment variable TLSECHO_PORT\): "abc" is not an integer/,
    );
    err(['--mode', 'pong'], {}, /is not one of echo, ping/);
    err(['--interval', 'soon'], {}, /is not a duration/);
    err([], { TLSECHO_VERBOSE: 'maybe' }, /invalid --verbose .* is not a boolean/);
    err(['--nope'], {}, /^Unknown option '--nope' \(run with --help for the options\)$/);
    const bad = join(t.dir, 'bad.yaml');
    writeFileSync(bad, 'port: [1, 2\n');
    err(['--config', bad], {}, /config file .*bad\.yaml is not valid YAML/);
    writeFileSync(bad, 'prot: 1\n');
    err(['--config', bad], {}, /config file .*bad\.yaml: unknown key 'prot'/);
    writeFileSync(bad, 'port: "x"\n');
    err(['--config', bad], {}, /invalid --port \(from config file .*bad\.yaml\): "x"/);
    err(
      ['--config', join(t.dir, 'missing.yaml')],
      {},
      /^cannot read config file .*missing\.yaml: no such file$/,
    );
    err(['--config', t.dir], {}, /^cannot read config file .*: is a folder, not a file$/);
  });
});

describe('parseDuration and help', () => {
  it('parses durations into milliseconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2s'), 2000);
    assert.equal(parseDuration('1.5'), 1500);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('fast'), undefined);
  });

  it('lists every option with its variable and default', () => {
    const text = helpText('x', 'does x', 'tlsecho x', table);
    for (const s of [
      '--port N',
      '[default: 8443]',
      '[env: TLSECHO_PORT]',
      '[env: MX_domain]',
      '(echo|ping)',
      '--config FILE',
    ])
      assert.ok(text.includes(s), s);
  });
});
