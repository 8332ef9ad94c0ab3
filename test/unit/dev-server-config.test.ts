import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { devServerArgs, DevServerConfigError, parseDevServerConfig, resolveDevServerSettings } from '../../launcher/dev-server-config.js';

const checkedIn = readFileSync('temporal-dev.yaml', 'utf8');

describe('temporal-dev.yaml', () => {
  it('parses the checked-in file', () => {
    const file = parseDevServerConfig(checkedIn, 'temporal-dev.yaml');
    expect(file).toMatchObject({ namespace: 'infraai', port: 7233, uiPort: 8233, retentionDays: 7 });
    expect(file.searchAttributes).toEqual({ Tenant: 'Keyword', IncidentStatus: 'Keyword', TargetHost: 'Keyword', Severity: 'Keyword' });
  });

  it('names the bad field', () => {
    expect(() => parseDevServerConfig('namespace: infraai\nport: 99999\n', 'x.yaml')).toThrow(/port/);
    expect(() => parseDevServerConfig('namespace: infraai\nportt: 1\n', 'x.yaml')).toThrow(DevServerConfigError);
    expect(() => parseDevServerConfig('namespace: infraai\nsearchAttributes:\n  Foo: Blob\n', 'x.yaml')).toThrow(/searchAttributes\.Foo/);
    expect(() => parseDevServerConfig('namespace: [', 'x.yaml')).toThrow(/not valid YAML/);
  });

  it('applies overrides and builds the exact start-dev arguments', () => {
    const file = parseDevServerConfig(checkedIn, 'temporal-dev.yaml');
    const settings = resolveDevServerSettings(file, { dataDir: '/srv/infraai', port: 17233, uiPort: 18233 });
    expect(settings.databasePath).toBe('/srv/infraai/temporal/temporal.sqlite');
    const args = devServerArgs(settings);
    expect(args.slice(0, 2)).toEqual(['server', 'start-dev']);
    const pairs = (flag: string) => args.flatMap((arg, i) => (arg === flag ? [args[i + 1]] : []));
    expect(pairs('--port')).toEqual(['17233']);
    expect(pairs('--ui-port')).toEqual(['18233']);
    expect(pairs('--namespace')).toEqual(['infraai']);
    expect(pairs('--db-filename')).toEqual(['/srv/infraai/temporal/temporal.sqlite']);
    expect(pairs('--search-attribute').sort()).toEqual(['IncidentStatus=Keyword', 'Severity=Keyword', 'TargetHost=Keyword', 'Tenant=Keyword']);
    expect(pairs('--dynamic-config-value')).toContain('limit.maxIDLength=1000');
    expect(pairs('--dynamic-config-value')).toContain('system.forceSearchAttributesCacheRefreshOnRead=true');
    expect(args).toContain('--ui-disable-news-fetch');
    const headless = devServerArgs(resolveDevServerSettings(file, { dataDir: '/d', headless: true }));
    expect(headless).toContain('--headless');
    expect(headless).not.toContain('--ui-port');
  });
});
