import { describe } from 'vitest';
import { createStore } from '../../adapters/store/create.js';
import { describeStoreContract } from './store-contract.js';

// Supabase is a hosted service: this contract run needs a project with migrations/*.sql applied.
const url = process.env.SUPABASE_URL;
const key = process.env.SUPABASE_KEY;

if (url && key) {
  describeStoreContract('Supabase', () => createStore({ kind: 'supabase', url, key }));
} else {
  console.info('Supabase store contract skipped: set SUPABASE_URL and SUPABASE_KEY (with migrations/*.sql applied) to run it.');
  describe.skip('store contract: Supabase (SUPABASE_URL / SUPABASE_KEY not set)', () => undefined);
}
