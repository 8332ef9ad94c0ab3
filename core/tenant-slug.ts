/**
 * A tenant's slug, as the store allows it (the CHECK on tenants.slug, migrations/0001_init.sql): what
 * JWT claims, configuration and scoped run ids (`pd-<id>@<slug>`) are checked against. It never holds
 * `@`, the separator of a scoped PagerDuty run id.
 */
export const TENANT_SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/;
