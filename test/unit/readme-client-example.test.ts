import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(__dirname, '../..');

/** The README's example of the typed client: the TypeScript block under its heading. */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### The typed client (`@nova/client`)'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the README shows the typed client in a ```ts block');
  return block[1]!;
}

/**
 * The example as a module a merchant's code could hold: its imports at the top, the rest in an
 * async function (the example awaits, as code in a handler would), after `context`.
 */
function asModule(example: string, context: string): string {
  const lines = example.split('\n');
  const imports = lines.filter((line) => line.startsWith('import '));
  const body = lines.filter((line) => !line.startsWith('import '));
  return `${imports.join('\n')}\n${context}\nexport async function example(): Promise<void> {\n${body.join('\n')}\n}\n`;
}

/**
 * Type-checks `source` as a module in test/ (so `@nova/client` resolves to the workspace as
 * built) with the repository's compiler options; the diagnostics, as text.
 */
function typeErrors(source: string): string[] {
  const fileName = join(root, 'test/unit/__readme-client-example__.ts');
  const base = ts.getParsedCommandLineOfConfigFile(
    join(root, 'test/tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => assert.fail(String(diagnostic.messageText)),
    },
  );
  assert.ok(base);
  const options: ts.CompilerOptions = { ...base.options, noEmit: true, composite: false, incremental: false };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) =>
    name === fileName
      ? ts.createSourceFile(name, source, languageVersion)
      : getSourceFile(name, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram({ rootNames: [fileName], options, host });
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(fileName))
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
}

// The README's example must be code a merchant can paste: it compiles against the client as
// generated, so a renamed route, parameter or field fails here before it misleads anyone.
describe("the README's typed-client example", () => {
  // What the example takes from the merchant's own code.
  const context = 'declare const orderId: string;\ndeclare const campaignId: string;\n';

  it('type-checks against @nova/client as built', () => {
    const example = readmeExample();
    assert.match(example, /from '@nova\/client'/);
    assert.match(example, /POST\('\/v1\/rewards\/issuances'/, 'it issues a reward');
    assert.ok(example.trim().split('\n').length <= 12, 'a few lines');
    assert.deepEqual(typeErrors(asModule(example, context)), []);
  });

  it('the check catches an example that does not match the document', () => {
    const wrong = readmeExample().replace("'/v1/rewards/issuances'", "'/v1/rewards/issuance'");
    const errors = typeErrors(asModule(wrong, context));
    assert.ok(
      errors.some((error) => error.includes('"/v1/rewards/issuance"')),
      `a route the document does not have is a type error naming it: ${errors.join(' | ')}`,
    );
  });
});
