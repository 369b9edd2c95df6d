// @ts-check
'use strict';
const fs = require('node:fs');

/**
 * What to do about the failures a newcomer meets most, by what the failing step printed: a
 * line `hint: ...` added to the error, so setup and START say more than "examine the log".
 */
const HINTS = [
  {
    pattern: /could not bind IPv4 address.*Address already in use|another postmaster already running/s,
    hint: 'the PostgreSQL port is taken (another PostgreSQL, or another START): set NOVA_PG_PORT to a free port, or DATABASE_URL to use a server you already run',
  },
  {
    pattern: /EADDRINUSE|port \d+ is in use/,
    hint: 'a port is taken: set the variable the message names (PORT, TEMPORAL_PORT, TEMPORAL_UI_PORT, STELLAR_SANDBOX_PORT) to a free port, or stop the other process',
  },
  {
    pattern: /No space left on device|ENOSPC/,
    hint: 'the disk is full: free some space (or set NOVA_DATA_DIR elsewhere)',
  },
  {
    pattern: /Permission denied|EACCES/,
    hint: 'a folder is not writable: run as the user that owns the project (root for the embedded PostgreSQL), or set NOVA_DATA_DIR to a writable folder',
  },
  {
    pattern: /ENOTFOUND|EAI_AGAIN|ETIMEDOUT|Could not fetch URL|network request .* failed/i,
    hint: 'a package registry did not answer (npm, PyPI or crates.io): check the network or proxy settings, then run `npm run setup` again',
  },
  { pattern: /python3 is needed/, hint: 'install Python 3 (e.g. apt-get install python3 python3-venv)' },
];

/** The error's message with a hint line when one applies. @param {string} message */
function withHint(message) {
  const found = HINTS.find(({ pattern }) => pattern.test(message));
  return found && !message.includes('\nhint: ') ? `${message}\nhint: ${found.hint}` : message;
}

/**
 * The last lines of a log file (of what it got after byte `from`), or '' when there is none.
 * @param {string} file @param {number} count @param {number} [from]
 */
function lastLines(file, count, from = 0) {
  try {
    return fs.readFileSync(file).subarray(from).toString('utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '';
  }
}

module.exports = { withHint, lastLines };
