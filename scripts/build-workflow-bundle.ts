import { resolve } from 'node:path';
import { buildWorkflowBundle } from '../launcher/workflow-bundle.js';

// `npm run build:workflows`: writes the bundle production workers load (INFRAAI_WORKFLOW_BUNDLE).
const out = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
await buildWorkflowBundle(out);
console.log(`workflow bundle written to ${out}`);
