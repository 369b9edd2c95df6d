// @ts-check
'use strict';
const path = require('node:path');

/** Where the project lives, and the project-local folders that setup fills. */
const root = path.resolve(__dirname, '..', '..');

module.exports = {
  root,
  /** Persistent local data: PostgreSQL cluster, Temporal SQLite file, keys, logs. */
  dataDir: path.resolve(process.env.NOVA_DATA_DIR || path.join(root, '.data')),
  /** Downloaded tools (Temporal binaries in a virtualenv); safe to delete. */
  toolsDir: path.resolve(process.env.NOVA_TOOLS_DIR || path.join(root, '.tools')),
};
