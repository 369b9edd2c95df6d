// @ts-check
'use strict';
/**
 * jest for every Node suite, one project per layer. scripts/test.js (`npm test`) runs it with
 * the servers the suites need; running jest alone works for the suites that need none.
 *
 * The TypeScript test files run from source through @swc/jest (no type check here: `tsc -b`
 * of the build type-checks them, as the `test` workspace). The workspaces they import are the
 * built JavaScript (each package's `main` in dist/), as the API and the worker run it, and are
 * not transformed.
 */

/** @type {[string, Record<string, unknown>]} */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      target: 'es2022',
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

/**
 * @param {string} displayName
 * @param {string} folder the project's test files, below the repository root
 * @returns {import('jest').Config}
 */
const project = (displayName, folder) => ({
  displayName,
  rootDir: __dirname,
  roots: [`<rootDir>/${folder}`],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Node's (not jsdom: the tests talk to real servers and spawn real processes), with fetch's
  // JSON parsed in the test's realm (see jest.environment.js).
  testEnvironment: '<rootDir>/jest.environment.js',
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
});

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    project('unit', 'test/unit'),
    project('workflows', 'test/workflows'),
    project('replay', 'test/replay'),
    project('activities', 'test/activities'),
    project('integration', 'test/integration'),
    project('stellar', 'test/stellar'),
    project('e2e', 'test/e2e'),
    project('deploy', 'test/deploy'),
    project('stellar-sandbox', 'apps/stellar-sandbox/test'),
  ],
  // node:test had no default timeout; the suites start real servers in their hooks and wait
  // for conditions with their own deadlines. A test that names its own timeout keeps it.
  testTimeout: 600_000,
};
