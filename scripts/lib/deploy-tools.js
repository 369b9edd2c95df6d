// @ts-check
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { run, which } = require('./exec');
const { toolsDir } = require('./paths');

/**
 * The tools TEST validates the deployment files with, none needing a container engine:
 * - helm, built from the Go module proxy into .tools/bin (no binary release is reachable here;
 *   about 75 s on 2 idle cores with a cold module cache, 5.5 min on a loaded one; 110 MB);
 * - kubernetes-validate (the Kubernetes JSON schemas bundled, so offline) into .tools/venv,
 *   beside schemathesis;
 * - docker-compose v1 into a virtualenv of its own, .tools/compose-venv: it needs
 *   jsonschema<4, kubernetes-validate and schemathesis jsonschema>=4.
 * HELM_PATH, KUBERNETES_VALIDATE_PATH and DOCKER_COMPOSE_PATH name preinstalled ones.
 * Without Go or Python a tool is reported missing and the deployment tests fail saying so.
 */
const HELM_VERSION = '3.22.0';
const KUBERNETES_VALIDATE_SPEC = 'kubernetes-validate==1.37.*';
// PyYAML 5.4 and 6.0.0 (all docker-compose 1.29.2 accepts, <6) no longer build from source with
// Cython 3 on Python 3.11; 5.3.1 has no pyproject.toml and builds with plain setuptools.
const DOCKER_COMPOSE_SPECS = ['docker-compose==1.29.2', 'PyYAML==5.3.1'];

const binDir = path.join(toolsDir, 'bin');
const venvBin = path.join(toolsDir, 'venv', 'bin');
const composeVenvDir = path.join(toolsDir, 'compose-venv');

/**
 * @typedef {{ available: true, path: string, source: string }} ToolFound
 * @typedef {{ available: false, reason: string }} ToolMissing
 * @typedef {ToolFound | ToolMissing} Tool
 */

/** @param {string} file */
function stamped(file, /** @type {string} */ content) {
  return fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content;
}

/**
 * `go install helm.sh/helm/v3/cmd/helm@v<pin>` into .tools/bin; a counter every 50 packages
 * compiled shows it moving (the first build takes minutes).
 * @param {{ onCompiled?: (packages: number) => void }} [options]
 * @returns {Promise<Tool>}
 */
async function ensureHelm(options = {}) {
  if (process.env.HELM_PATH) return { available: true, path: process.env.HELM_PATH, source: 'HELM_PATH' };
  const binary = path.join(binDir, 'helm');
  const stampFile = path.join(binDir, 'nova-helm.json');
  const stamp = JSON.stringify({ helm: HELM_VERSION });
  if (fs.existsSync(binary) && stamped(stampFile, stamp))
    return { available: true, path: binary, source: `${HELM_VERSION}, cached` };
  const go = which('go');
  if (!go) return { available: false, reason: 'no Go toolchain to build helm with (or set HELM_PATH)' };
  fs.mkdirSync(binDir, { recursive: true });
  const started = Date.now();
  const args = ['install', '-v', `helm.sh/helm/v3/cmd/helm@v${HELM_VERSION}`];
  await new Promise((resolve, reject) => {
    const child = spawn(go, args, { env: { ...process.env, GOBIN: binDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let compiled = 0;
    /** @param {Buffer} chunk */
    const collect = (chunk) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-20_000);
      // -v names each package as it is compiled; "go: downloading" lines are module fetches.
      for (const line of text.split('\n')) {
        if (line && !line.startsWith('go: ')) options.onCompiled?.((compiled += 1));
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(undefined);
      const tail = output.trim().split('\n').slice(-30).join('\n');
      reject(new Error(`go ${args.join(' ')} exited with ${signal ?? code}\n${tail}`));
    });
  });
  fs.writeFileSync(stampFile, stamp);
  const seconds = Math.round((Date.now() - started) / 1000);
  return { available: true, path: binary, source: `${HELM_VERSION}, built with go install in ${seconds} s` };
}

/**
 * pip-installs pinned packages into a virtualenv (made when missing), once per pin set.
 * @param {{ venvDir: string, specs: string[], stampName: string, executable: string, envVariable: string }} tool
 * @returns {Promise<Tool>}
 */
async function ensurePipTool(tool) {
  const fromEnv = process.env[tool.envVariable];
  if (fromEnv) return { available: true, path: fromEnv, source: tool.envVariable };
  const bin = path.join(tool.venvDir, 'bin');
  const binary = path.join(bin, tool.executable);
  const stampFile = path.join(tool.venvDir, tool.stampName);
  const stamp = JSON.stringify(tool.specs);
  const label = tool.specs[0] ?? tool.executable;
  if (fs.existsSync(binary) && stamped(stampFile, stamp))
    return { available: true, path: binary, source: `${label}, cached` };
  const python = which('python3') ?? which('python');
  if (!python) return { available: false, reason: `python3 is needed to install ${label} from PyPI` };
  if (!fs.existsSync(path.join(bin, 'pip'))) await run(python, ['-m', 'venv', tool.venvDir]);
  await run(path.join(bin, 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...tool.specs]);
  fs.writeFileSync(stampFile, stamp);
  return { available: true, path: binary, source: `${label}, installed from PyPI` };
}

function ensureKubernetesValidate() {
  return ensurePipTool({
    venvDir: path.dirname(venvBin),
    specs: [KUBERNETES_VALIDATE_SPEC],
    stampName: 'nova-kubernetes-validate.json',
    executable: 'kubernetes-validate',
    envVariable: 'KUBERNETES_VALIDATE_PATH',
  });
}

function ensureDockerCompose() {
  return ensurePipTool({
    venvDir: composeVenvDir,
    specs: DOCKER_COMPOSE_SPECS,
    stampName: 'nova-docker-compose.json',
    executable: 'docker-compose',
    envVariable: 'DOCKER_COMPOSE_PATH',
  });
}

/** One line for setup's progress output. @param {Tool} tool */
function describeTool(tool) {
  return tool.available ? tool.source : `skipped: ${tool.reason}`;
}

/**
 * The environment the deployment tests read: each tool's path, or why it is missing.
 * @param {{ helm: Tool, kubernetesValidate: Tool, dockerCompose: Tool }} tools
 * @returns {NodeJS.ProcessEnv}
 */
function deployToolsEnv(tools) {
  /** @param {Tool} tool */
  const value = (tool) => (tool.available ? tool.path : `missing: ${tool.reason}`);
  return {
    HELM_PATH: value(tools.helm),
    KUBERNETES_VALIDATE_PATH: value(tools.kubernetesValidate),
    DOCKER_COMPOSE_PATH: value(tools.dockerCompose),
  };
}

module.exports = {
  HELM_VERSION,
  deployToolsEnv,
  describeTool,
  ensureDockerCompose,
  ensureHelm,
  ensureKubernetesValidate,
};
