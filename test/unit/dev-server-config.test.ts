import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clientHost,
  devServerArgs,
  DevServerConfigError,
  parseDevServerConfig,
  readDevServerConfig,
  resolveDevServerSettings,
} from '../../launcher/dev-server-config.js';

const checkedIn = readFileSync('temporal-dev.yaml', 'utf8');

/** Every value that follows `flag` in the argument list. */
const valuesOf = (args: string[], flag: string) => args.flatMap((arg, i) => (arg === flag ? [args[i + 1]] : []));

describe('temporal-dev.yaml', () => {
  it('parses the checked-in file', () => {
    const file = parseDevServerConfig(checkedIn, 'temporal-dev.yaml');
    expect(file).toMatchObject({
      namespace: 'infraai',
      ip: '127.0.0.1',
      port: 7233,
      uiPort: 8233,
      retentionDays: 7,
      databaseFile: 'temporal/temporal.sqlite',
    });
    expect(file.searchAttributes).toEqual({ Tenant: 'Keyword', IncidentStatus: 'Keyword', TargetHost: 'Keyword', Severity: 'Keyword' });
    expect(file.dynamicConfig['limit.maxIDLength']).toBe(1000);
    expect(file.ui).toEqual({ disableNewsFetch: true, codecEndpoint: '' });
  });

  it('fills defaults for a minimal file', () => {
    expect(parseDevServerConfig('namespace: ops\n', 'min.yaml')).toEqual({
      namespace: 'ops',
      retentionDays: 7,
      ip: '127.0.0.1',
      port: 7233,
      uiPort: 8233,
      databaseFile: 'temporal/temporal.sqlite',
      sqlitePragmas: {},
      searchAttributes: {},
      dynamicConfig: {},
      ui: { disableNewsFetch: true, codecEndpoint: '' },
    });
  });

  it('names the file and the bad field', () => {
    const error = (text: string) => {
      try {
        parseDevServerConfig(text, 'conf/x.yaml');
      } catch (err) {
        expect(err).toBeInstanceOf(DevServerConfigError);
        return (err as Error).message;
      }
      throw new Error('expected a DevServerConfigError');
    };
    expect(error('namespace: infraai\nport: 99999\n')).toMatch(/^conf\/x\.yaml is invalid:\n {2}port: /);
    expect(error('namespace: infraai\nportt: 1\n')).toMatch(/portt/);
    expect(error('port: 1\n')).toMatch(/namespace/);
    expect(error('namespace: infraai\nsearchAttributes:\n  Foo: Blob\n')).toMatch(/searchAttributes\.Foo/);
    expect(error('namespace: infraai\ndynamicConfig:\n  limit.maxIDLength:\n')).toMatch(/dynamicConfig\.limit\.maxIDLength: needs a value/);
    expect(error('namespace: infraai\nui:\n  codecEndpoint: 5\n')).toMatch(/ui\.codecEndpoint/);
    expect(error('namespace: [')).toMatch(/^conf\/x\.yaml: not valid YAML/);
  });

  it('names a missing file', async () => {
    await expect(readDevServerConfig('/nonexistent/temporal-dev.yaml')).rejects.toThrow(/cannot read \/nonexistent\/temporal-dev\.yaml/);
  });

  it('reads a file from disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'infraai-devcfg-'));
    try {
      await writeFile(join(dir, 'dev.yaml'), 'namespace: from-disk\nport: 7400\n');
      expect(await readDevServerConfig(join(dir, 'dev.yaml'))).toMatchObject({ namespace: 'from-disk', port: 7400 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('start-dev arguments', () => {
  const file = parseDevServerConfig(checkedIn, 'temporal-dev.yaml');

  it('builds the exact argument list with the UI, after the overrides', () => {
    const settings = resolveDevServerSettings(file, { dataDir: '/srv/infraai', port: 17233, uiPort: 18233 });
    expect(settings.databasePath).toBe('/srv/infraai/temporal/temporal.sqlite');
    expect(devServerArgs(settings)).toEqual([
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      '17233',
      '--db-filename',
      '/srv/infraai/temporal/temporal.sqlite',
      '--namespace',
      'infraai',
      '--log-level',
      'warn',
      '--ui-port',
      '18233',
      '--ui-disable-news-fetch',
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=full',
      '--search-attribute',
      'Tenant=Keyword',
      '--search-attribute',
      'IncidentStatus=Keyword',
      '--search-attribute',
      'TargetHost=Keyword',
      '--search-attribute',
      'Severity=Keyword',
      '--dynamic-config-value',
      'system.forceSearchAttributesCacheRefreshOnRead=true',
      '--dynamic-config-value',
      'limit.maxIDLength=1000',
      '--dynamic-config-value',
      'frontend.enableUpdateWorkflowExecution=true',
      '--dynamic-config-value',
      'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
    ]);
  });

  it('keeps the file ports without overrides and resolves a relative data dir', () => {
    const settings = resolveDevServerSettings(file, { dataDir: 'rel/data' });
    expect([settings.port, settings.uiPort]).toEqual([7233, 8233]);
    expect(settings.databasePath).toBe(join(process.cwd(), 'rel/data/temporal/temporal.sqlite'));
  });

  it('drops the UI flags when headless', () => {
    const args = devServerArgs(resolveDevServerSettings(file, { dataDir: '/d', uiPort: 18233, headless: true }));
    expect(args).toContain('--headless');
    expect(args).not.toContain('--ui-port');
    expect(args).not.toContain('--ui-disable-news-fetch');
  });

  it('passes dynamic config values as JSON, an absolute database file and a codec endpoint as given', () => {
    const custom = parseDevServerConfig(
      [
        'namespace: ops',
        'databaseFile: /var/lib/temporal/dev.sqlite',
        'dynamicConfig:',
        '  history.defaultActivityRetryPolicy: {MaximumAttempts: 3}',
        '  frontend.namespaceRPS: 2400',
        '  system.visibilityStoreName: "sqlite"',
        'ui:',
        '  disableNewsFetch: false',
        '  codecEndpoint: http://127.0.0.1:8888',
      ].join('\n'),
      'custom.yaml',
    );
    const args = devServerArgs(resolveDevServerSettings(custom, { dataDir: '/ignored' }));
    expect(valuesOf(args, '--db-filename')).toEqual(['/var/lib/temporal/dev.sqlite']);
    expect(valuesOf(args, '--dynamic-config-value')).toEqual([
      'history.defaultActivityRetryPolicy={"MaximumAttempts":3}',
      'frontend.namespaceRPS=2400',
      'system.visibilityStoreName="sqlite"',
    ]);
    expect(valuesOf(args, '--ui-codec-endpoint')).toEqual(['http://127.0.0.1:8888']);
    expect(args).not.toContain('--ui-disable-news-fetch');
    expect(args).not.toContain('--search-attribute');
  });

  it('gives clients a loopback address for a wildcard bind', () => {
    expect(clientHost('127.0.0.1')).toBe('127.0.0.1');
    expect(clientHost('0.0.0.0')).toBe('127.0.0.1');
    expect(clientHost('::')).toBe('[::1]');
    expect(clientHost('::1')).toBe('[::1]');
  });
});
