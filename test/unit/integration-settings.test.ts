import { describe, expect, it } from 'vitest';
import { InvalidSecretPathError, secretPathSegment, secretPathSegments } from '../../adapters/secrets/port.js';
import { integrationFields, integrationSecretPath, isIntegrationName } from '../../tools/integration-settings.js';

// The pure parts of integration settings: where a scope's secrets are kept, and what the list of
// integrations tells a frontend about each field.

describe('secret paths of integration settings', () => {
  it('makes any user subject one readable path segment, distinct subjects distinct segments', () => {
    const subjects = ['api-key:3f2a', 'auth0|5f1c', 'a_b', 'a:b', 'a b', 'ü', 'user/../../etc', ''];
    const segments = subjects.map(secretPathSegment);
    expect(segments.slice(0, 2)).toEqual(['api-key_3a3f2a', 'auth0_7c5f1c']);
    expect(new Set(segments).size).toBe(subjects.length);
    for (const segment of segments) expect(segment).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('keeps the tenant-wide and each user’s secrets at paths of their own', () => {
    expect(integrationSecretPath({ tenantId: 't', userId: null }, 'jira')).toBe('integrations/tenant/jira');
    const user = integrationSecretPath({ tenantId: 't', userId: 'api-key:9' }, 'jira');
    expect(user).toBe('integrations/users/api-key_3a9/jira');
    expect(secretPathSegments(user)).toHaveLength(4);
    expect(() => secretPathSegments('integrations/users/api-key:9/jira')).toThrow(InvalidSecretPathError);
  });
});

describe('integration fields', () => {
  it('marks secrets and required fields from the schema (defaults and optional fields are not required)', () => {
    expect(integrationFields('github')).toEqual([
      { name: 'token', secret: true, required: true },
      { name: 'baseUrl', secret: false, required: false },
      { name: 'defaultOwner', secret: false, required: false },
    ]);
    // ServiceNow takes a token or a username and password: no single one of them is required.
    expect(
      integrationFields('servicenow')
        .filter((field) => field.required)
        .map((field) => field.name),
    ).toEqual(['instanceUrl']);
  });

  it('knows the integration names, and nothing inherited from Object', () => {
    expect(isIntegrationName('prometheus')).toBe(true);
    expect(isIntegrationName('gitlab')).toBe(false);
    expect(isIntegrationName('constructor')).toBe(false);
    expect(isIntegrationName('__proto__')).toBe(false);
  });
});
