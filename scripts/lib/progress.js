// @ts-check
'use strict';

/**
 * One progress line per step: "[setup] name ... ok (12 ms)". Steps that fail print the
 * reason and rethrow so the command exits non-zero.
 * @template T
 * @param {string} scope
 * @param {string} name
 * @param {() => Promise<T> | T} run
 * @param {(result: T) => string} [describe] a short note on the result, printed after "ok"
 * @returns {Promise<T>}
 */
async function step(scope, name, run, describe) {
  const started = Date.now();
  process.stdout.write(`[${scope}] ${name} ...`);
  try {
    const result = await run();
    const text = describe ? describe(result) : typeof result === 'string' ? result : '';
    const note = text ? `: ${text}` : '';
    process.stdout.write(` ok${note} (${Date.now() - started} ms)\n`);
    return result;
  } catch (error) {
    process.stdout.write(` FAILED (${Date.now() - started} ms)\n`);
    throw error;
  }
}

/** @param {string} scope @param {string} message */
function say(scope, message) {
  process.stdout.write(`[${scope}] ${message}\n`);
}

module.exports = { step, say };
