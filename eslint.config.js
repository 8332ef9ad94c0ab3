import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import prettierCompat from 'eslint-config-prettier';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

// Workflow code runs in Temporal's deterministic sandbox: no I/O, no environment, no SDK clients.
// `core/` is imported by workflows, so it obeys the same rules.
const workflowSafeImports = {
  paths: nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not allowed in workflow-safe code.' })),
  patterns: [
    {
      group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'],
      message: 'Workflow-safe code may import @temporalio/workflow and @temporalio/common only.',
    },
    {
      group: [
        'pg',
        '@electric-sql/*',
        '@supabase/*',
        'hono',
        '@hono/*',
        'jose',
        'zod',
        'yaml',
        'ssh2',
        'openai',
        '@anthropic-ai/*',
        '@aws-sdk/*',
        'ioredis',
      ],
      message: 'SDK clients and I/O libraries belong in adapters/ and activities/, never in workflow-safe code.',
    },
    {
      group: ['**/adapters/**', '**/api/**', '../config.js', '../../config.js', '**/worker.js', '**/launcher/**'],
      message: 'Workflow-safe code may not import adapters, the API, config or the worker.',
    },
    {
      group: ['**/activities/**'],
      allowTypeImports: true,
      message: 'Workflows import activity *types* only (import type).',
    },
  ],
};

const workflowSafeRules = {
  'no-restricted-imports': ['error', workflowSafeImports],
  'no-restricted-globals': [
    'error',
    { name: 'process', message: 'Configuration reaches a workflow as arguments, never through process.' },
    { name: 'Buffer', message: 'Buffer is a Node built-in.' },
    { name: 'require', message: 'Use ESM imports.' },
    { name: '__dirname', message: 'Node-only global.' },
    { name: 'setImmediate', message: 'Not deterministic inside a workflow.' },
  ],
  'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'No process.env in workflow-safe code.' }],
};

// Outside adapters/, a port is reached through its port.ts (interface, types, errors), which loads no
// vendor SDK: an import of ssh-executor.ts would load ssh2 into the API. Only the composition root
// (wiring.ts, worker.ts, scripts/, launcher/) picks implementations, through each port's create.ts.
const portFileOnly = (allowed, message) => ({
  'no-restricted-imports': [
    'error',
    { patterns: [{ group: ['**/adapters/*/*', ...allowed.map((file) => `!**/adapters/*/${file}`)], message }] },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'coverage/**', 'bench/results/**', 'dist/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  { files: ['workflows/**/*.ts', 'core/**/*.ts'], rules: workflowSafeRules },
  // core/automation/ (playbook generation and validation) is pure code for activities and the API:
  // it needs yaml, zod, node:crypto and the LLM port, so workflows may import its types only.
  {
    files: ['core/automation/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/*/*', '!**/adapters/*/port.js'],
              message: 'core/automation reaches adapters through their port files only.',
            },
            {
              group: ['@temporalio/*', '**/api/**', '**/activities/**', '**/workflows/**'],
              message: 'core/automation is called by activities, never the reverse.',
            },
          ],
        },
      ],
    },
  },
  // core/provisioning/ (request grammar, Terraform templates, HCL validation, policy, Checkov) is pure
  // code for activities and the API: it needs zod, yaml, @cdktf/hcl2json and, for conventions files
  // and Checkov, node:fs and node:child_process. Workflows import its types.ts only.
  {
    files: ['core/provisioning/**/*.ts'],
    ignores: ['core/provisioning/types.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/*/*', '!**/adapters/*/port.js'],
              message: 'core/provisioning reaches adapters through their port files only.',
            },
            {
              group: ['@temporalio/*', '**/api/**', '**/activities/**', '**/workflows/**'],
              message: 'core/provisioning is called by activities, never the reverse.',
            },
          ],
        },
      ],
      'no-restricted-globals': 'off',
      'no-restricted-properties': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...workflowSafeImports,
          patterns: [
            ...workflowSafeImports.patterns,
            {
              group: ['**/core/automation/**'],
              allowTypeImports: true,
              message: 'core/automation/ loads yaml, zod and node:crypto: workflows import its types only.',
            },
            {
              group: ['**/core/provisioning/**', '!**/core/provisioning/types.js'],
              allowTypeImports: true,
              message: 'core/provisioning/ loads zod, yaml, wasm and Node built-ins: workflows import its types (types.js) only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['api/**/*.ts', 'activities/**/*.ts', 'ingress/**/*.ts', 'tools/**/*.ts'],
    rules: portFileOnly(['port.js'], 'Import the port file (adapters/<port>/port.js): implementations load vendor SDKs.'),
  },
  // A chat tool builds its client per call from the caller's integration settings, through the
  // port's create.ts; these create.ts files build plain-fetch clients and load no vendor SDK.
  {
    files: ['tools/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/adapters/*/*',
                '!**/adapters/*/port.js',
                ...['servicenow', 'pagerduty', 'metrics'].map((port) => `!**/adapters/${port}/create.js`),
              ],
              message: 'Import the port file (adapters/<port>/port.js), or the create.js of a plain-fetch integration client.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['wiring.ts', 'worker.ts', 'scripts/**/*.ts', 'launcher/**/*.ts', 'bridge/**/*.ts'],
    rules: portFileOnly(
      ['port.js', 'create.js', 'connection.js'],
      'The composition root picks implementations through adapters/<port>/create.js, never an implementation file.',
    ),
  },
  { files: ['eslint.config.js', 'lab/**/*.mjs', 'adapters/ansible-runner/*.mjs'], ...tseslint.configs.disableTypeChecked },
  // Formatting is prettier's job (`npm run lint` checks it first); no style rule may disagree with it.
  prettierCompat,
);
