import { z } from 'zod';

// Settings of the integrations the chat tools use, per tenant and per user
// (`/api/v1/integrations/{name}/config`). One schema per integration; the fields in `SECRET_FIELDS`
// are kept through the secrets port (sealed store or Infisical), never in clear in the database,
// and are masked on every read. A user's settings override the tenant's, field by field.

const httpsOrLocalUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .transform((url) => url.replace(/\/+$/, ''));
const secret = z.string().min(1).max(8192);

export const INTEGRATION_SETTINGS = {
  servicenow: z
    .strictObject({
      instanceUrl: httpsOrLocalUrl.describe('https://<instance>.service-now.com'),
      username: z.string().min(1).max(256).optional(),
      password: secret.optional(),
      /** OAuth bearer token, instead of username and password. */
      token: secret.optional(),
    })
    .refine((s) => s.token !== undefined || (s.username !== undefined && s.password !== undefined), {
      message: 'Give a token, or a username and a password',
    }),
  github: z.strictObject({
    token: secret,
    /** GitHub Enterprise Server's API root; github.com's by default. */
    baseUrl: httpsOrLocalUrl.default('https://api.github.com'),
    /** Repository searches default to this owner (user or organisation). */
    defaultOwner: z.string().min(1).max(100).optional(),
  }),
  jira: z.strictObject({
    baseUrl: httpsOrLocalUrl.describe('https://<site>.atlassian.net'),
    email: z.email().max(320),
    apiToken: secret,
    /** Project key new issues go to when a call names none. */
    defaultProject: z.string().min(1).max(50).optional(),
  }),
  confluence: z.strictObject({
    baseUrl: httpsOrLocalUrl.describe('https://<site>.atlassian.net (the API lives under /wiki)'),
    email: z.email().max(320),
    apiToken: secret,
  }),
  pagerduty: z.strictObject({
    apiToken: secret,
    /** The From header PagerDuty requires on changes: the email of a PagerDuty user. */
    fromEmail: z.email().max(320),
    baseUrl: httpsOrLocalUrl.default('https://api.pagerduty.com'),
  }),
  prometheus: z.strictObject({
    url: httpsOrLocalUrl,
    bearerToken: secret.optional(),
    username: z.string().min(1).max(256).optional(),
    password: secret.optional(),
  }),
} as const;

export type IntegrationName = keyof typeof INTEGRATION_SETTINGS;
export const INTEGRATION_NAMES = Object.keys(INTEGRATION_SETTINGS) as IntegrationName[];
export type IntegrationSettings<N extends IntegrationName> = z.output<(typeof INTEGRATION_SETTINGS)[N]>;

/** Fields that are secrets: sealed at rest, masked on read. */
export const SECRET_FIELDS: { readonly [N in IntegrationName]: readonly (keyof IntegrationSettings<N> & string)[] } = {
  servicenow: ['password', 'token'],
  github: ['token'],
  jira: ['apiToken'],
  confluence: ['apiToken'],
  pagerduty: ['apiToken'],
  prometheus: ['bearerToken', 'password'],
};

/** The integration is not configured for this user or tenant: say where to configure it. */
export class IntegrationNotConfiguredError extends Error {
  override readonly name = 'IntegrationNotConfiguredError';
  constructor(readonly integration: IntegrationName) {
    super(`${integration} is not configured: PUT /api/v1/integrations/${integration}/config first`);
  }
}
