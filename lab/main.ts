import { runLabCli } from './cli.js';

// `npm run lab`: see lab/cli.ts.
try {
  await runLabCli(process.argv.slice(2));
} catch (err) {
  console.error(`lab: ${(err as Error).message}`);
  process.exitCode = 1;
}
