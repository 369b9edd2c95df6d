// @ts-check
'use strict';

/**
 * On one machine the API, the worker and the Temporal dev server share the cores. The API
 * answers merchants while they wait; the worker and Temporal work through a queue that nobody
 * watches request by request. So START runs the worker and the dev server at a lower CPU
 * priority (nice): when the machine is busy, a request gets a core first and the background
 * catches up a little later. Idle cores are used by everyone alike, so throughput is the same.
 *
 * NOVA_BACKGROUND_NICE: 0-19 (default 5); 0 runs every process at the same priority.
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {number}
 */
function backgroundNice(env = process.env) {
  const raw = env.NOVA_BACKGROUND_NICE;
  if (raw === undefined || raw === '') return 5;
  if (!/^\d+$/.test(raw) || Number(raw) > 19) {
    throw new Error(`NOVA_BACKGROUND_NICE must be a whole number from 0 to 19 (got "${raw}")`);
  }
  return Number(raw);
}

/**
 * The command line that starts `command` at niceness `nice`, through nice(1) so that every
 * thread the process starts inherits it. Unchanged with nice 0 or where there is no nice(1).
 * @param {string} command
 * @param {readonly string[]} args
 * @param {number} nice
 * @returns {{ command: string, args: string[] }}
 */
function withNice(command, args, nice) {
  if (nice === 0 || process.platform === 'win32') return { command, args: [...args] };
  return { command: 'nice', args: ['-n', String(nice), command, ...args] };
}

module.exports = { backgroundNice, withNice };
