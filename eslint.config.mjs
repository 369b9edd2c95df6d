// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'apps/stellar-sandbox/**',
      '**/dist/**',
      '**/node_modules/**',
      'prisma/generated/**',
      'contracts/**',
      'target/**',
      '.data/**',
      '.tools/**',
      'helm/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      // Nest's DI reads constructor types at run time: imports used in decorated signatures are values.
      parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
    },
  },
  {
    // Plain CommonJS scripts (setup/start/test orchestration), type-checked through JSDoc.
    files: ['scripts/**/*.js', 'deploy/**/*.js', 'jest.config.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: only the workflow SDK, its
    // deterministic core, this folder's own definitions, and activity *types* may be imported.
    files: ['workflows/src/**/*.ts'],
    // client/ is Node code for the API and the worker (starts, signals, schedules); workflows may not import it.
    ignores: ['workflows/src/definitions/**', 'workflows/src/client/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/workflow$|@temporalio/common(/|$)|@nova/activities$|@nova/domain$|\\.{1,2}/)',
              message:
                'Workflow code may import only @temporalio/workflow, @temporalio/common, @nova/domain and workflows/ definitions.',
            },
            {
              regex: '^@nova/activities$',
              allowTypeImports: true,
              message: 'Workflows import activities by type only (proxyActivities<typeof ...>).',
            },
            {
              regex: '^\\.{1,2}/(.*/)?client(/|$)',
              message:
                'workflows/src/client starts and signals workflows from the API and the worker: never from a workflow.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        {
          name: 'Date',
          message:
            'Use workflow time (Date is replaced in the sandbox, but be explicit: use sleep/condition or workflowInfo()).',
        },
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'process', message: 'No process access in workflows.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use uuid4() or deterministic inputs.' },
      ],
    },
  },
  {
    // Definitions are imported by the API and the worker as well as by workflows.
    files: ['workflows/src/definitions/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/workflow$|@temporalio/common(/|$)|@nova/activities$|@nova/domain$|\\.{1,2}/)',
              message: 'Workflow definitions may import only the Temporal SDK types and workflows/ files.',
            },
            { regex: '^@nova/activities$', allowTypeImports: true, message: 'Import activity types only.' },
          ],
        },
      ],
    },
  },
);
