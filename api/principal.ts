import type { Role } from '../adapters/store/port.js';

/** Who is calling: set by the auth middleware (api/auth.ts) on every authenticated request. */
export interface Principal {
  tenantId: string;
  tenantSlug: string;
  role: Role;
  /** API key id, or the JWT subject. */
  subject: string;
  method: 'api_key' | 'jwt';
}
