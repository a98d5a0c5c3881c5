'use strict';
// Start, stop and talk to the real daemon from node:test integration tests.
// No dependencies beyond Node's standard library (Node 18 and 20).
//
//   const { startDaemon, runDaemon, request } = require('./lib/daemon');
//   const d = await startDaemon({ config: null, set: {}, env: {} });
//   const r = await request(`${d.url}/healthz`);
//   assert.equal(await d.stop(), 0);
//   d.cleanup();
//
// The binary is $SB_BUILD_DIR/switchboard (default <repo>/build; a relative
// SB_BUILD_DIR is taken from the repository root), plugins come from
// <build>/plugins. Every daemon gets its own temp dir (config + data) that
// cleanup() removes; SB_KEEP_TMP=1 keeps them for a post-mortem.
// SB_TEST_START_TIMEOUT_MS (default 15000) bounds the wait for readiness.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const buildDir = path.resolve(repoRoot, process.env.SB_BUILD_DIR || 'build');
const binary = path.join(buildDir, 'switchboard');
const pluginsDir = path.join(buildDir, 'plugins');
const defaultConfig = path.join(repoRoot, 'conf', 'switchboard.yaml');
const startTimeoutMs = Number(process.env.SB_TEST_START_TIMEOUT_MS) || 15000;
const keepTmp = process.env.SB_KEEP_TMP === '1';

// The bound address; a line naming port 0 (the address as configured) is not it.
const LISTENING_RE = /listening on (\[[0-9a-fA-F:]+\]|[0-9.]+|[A-Za-z0-9.-]+):([1-9]\d*)\b/;

// --- temp dirs and leftovers ------------------------------------------------
const tmpDirs = new Set();
const children = new Set();

/** A fresh directory under the OS temp dir, removed by cleanupAll()/at exit. */
function makeTempDir(prefix = 'sb-it-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.add(dir);
  return dir;
}

function removeDir(dir) {
  tmpDirs.delete(dir);
  if (!keepTmp) fs.rmSync(dir, { recursive: true, force: true });
}

/** Kill every daemon still running and remove every temp dir (sync). */
function cleanupAll() {
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  children.clear();
  for (const dir of [...tmpDirs]) {
    try { removeDir(dir); } catch { /* best effort */ }
  }
}
process.on('exit', cleanupAll);

function assertBinary() {
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} not found: build it first (bash .ci/build.sh build) ` +
                    'or point SB_BUILD_DIR at a build directory');
  }
}

/** {k: v} -> ['--set', 'k=v', ...]; null/undefined values are left out. */
function setArgs(set) {
  const args = [];
  for (const [k, v] of Object.entries(set || {})) {
    if (v === null || v === undefined) continue;
    args.push('--set', `${k}=${v}`);
  }
  return args;
}

/** process.env + extra; an undefined/null value removes the variable. */
function mergeEnv(extra) {
  const env = { ...process.env };
  for (const [k, v] of Object.entries(extra || {})) {
    if (v === null || v === undefined) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

/** Calls onLine for each complete line of a stream (and the unterminated rest at the end). */
function splitLines(stream, onLine) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on('end', () => { if (buf) onLine(buf); buf = ''; });
}

// --- one-shot runs: --version, --check, bad configs ---------------------------
/**
 * Runs the binary with args and waits for it to exit.
 * Resolves {code, signal, stdout, stderr, timedOut}; a run longer than
 * timeoutMs (default 15000) is killed with SIGKILL (code null, timedOut true).
 * cwd defaults to the repository root, so `-c conf/switchboard.yaml` works.
 */
function runDaemon(args = [], env = {}, { timeoutMs = 15000, cwd = repoRoot, input } = {}) {
  assertBinary();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd, env: mergeEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (s) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s) => { stderr += s; });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); children.delete(child); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input === undefined ? '' : input);
  });
}

// --- a running daemon -------------------------------------------------------------
/**
 * Starts the daemon and resolves when it logged `listening on HOST:PORT`.
 *
 * opts.config   YAML text written to <tmp>/switchboard.yaml, or null for
 *               conf/switchboard.yaml.
 * opts.set      extra --set overrides (a null value drops a default one);
 *               defaults: http.listen=127.0.0.1:0, storage.path=<tmp>/data,
 *               plugins_dir=<build>/plugins.
 * opts.env      extra environment (undefined/null removes a variable).
 * opts.args     extra command-line arguments.
 * opts.dataDir  use this data dir instead of a fresh one.
 * opts.cwd      working directory (default: the daemon's temp dir).
 * opts.timeoutMs  readiness timeout.
 *
 * Returns a handle: {port, host, url, dataDir, dir, configPath, logs, stdout,
 * pid, exitCode, exitSignal, stop(), kill(), restart(), waitForLog(), cleanup()}.
 * `logs` is every stderr line of every process started through this handle;
 * waitForLog() looks only at the current process's lines unless told otherwise.
 */
async function startDaemon(opts = {}) {
  assertBinary();
  const dir = makeTempDir('sb-daemon-');
  const dataDir = opts.dataDir || path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  let configPath = defaultConfig;
  if (typeof opts.config === 'string') {
    configPath = path.join(dir, 'switchboard.yaml');
    fs.writeFileSync(configPath, opts.config);
  }

  const d = {
    dir,
    dataDir,
    configPath,
    host: null,
    port: null,
    url: null,
    pid: null,
    logs: [],
    stdout: [],
    logStart: 0,
    exitCode: undefined,
    exitSignal: undefined,
    child: null,
    exited: null,
  };
  const waiters = new Set();

  function notify() {
    for (const w of [...waiters]) w.check();
  }

  function spawnOnce(listen, timeoutMs) {
    const set = {
      'http.listen': listen,
      'storage.path': dataDir,
      plugins_dir: pluginsDir,
      ...(opts.set || {}),
    };
    if (listen !== '127.0.0.1:0') set['http.listen'] = listen;
    const args = ['-c', configPath, ...setArgs(set), ...(opts.args || [])];
    const child = spawn(binary, args, {
      cwd: opts.cwd || dir,
      env: mergeEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    d.child = child;
    d.pid = child.pid;
    d.exitCode = undefined;
    d.exitSignal = undefined;
    d.logStart = d.logs.length;
    d.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        children.delete(child);
        d.exitCode = code;
        d.exitSignal = signal;
        notify();
        resolve({ code, signal });
      });
    });
    splitLines(child.stderr, (line) => { d.logs.push(line); notify(); });
    splitLines(child.stdout, (line) => { d.stdout.push(line); });

    return new Promise((resolve, reject) => {
      child.on('error', reject); // e.g. EACCES
      d.waitForLog(LISTENING_RE, timeoutMs).then((line) => {
        const m = LISTENING_RE.exec(line);
        d.host = m[1];
        d.port = Number(m[2]);
        d.url = `http://${d.host}:${d.port}`;
        resolve(d);
      }, async (err) => {
        if (d.exitCode === undefined) { child.kill('SIGKILL'); await d.exited; }
        reject(new Error(`switchboard did not get ready: ${err.message}\n` +
                         `args: ${args.join(' ')}\n--- log ---\n${tail(d.logs.slice(d.logStart))}`));
      });
    });
  }

  /**
   * Resolves with the first line (of the current process, or from index
   * `from` of d.logs) matching re; rejects after ms, or when the process
   * exits without such a line.
   */
  d.waitForLog = (re, ms = 5000, { from } = {}) => {
    const start = from === undefined ? d.logStart : from;
    return new Promise((resolve, reject) => {
      let timer = null;
      const w = {
        check() {
          for (let i = start; i < d.logs.length; i++) {
            if (re.test(d.logs[i])) { done(); return resolve(d.logs[i]); }
          }
          if (d.exitCode !== undefined) {
            done();
            reject(new Error(`process exited (code ${d.exitCode}, signal ${d.exitSignal}) ` +
                             `without logging ${re}`));
          }
        },
      };
      function done() { waiters.delete(w); if (timer) clearTimeout(timer); }
      timer = setTimeout(() => { done(); reject(new Error(`no log line matching ${re} within ${ms} ms`)); }, ms);
      waiters.add(w);
      w.check();
    });
  };

  /** SIGTERM, wait for exit; resolves the exit code. SIGKILL + error after ms. */
  d.stop = async (ms = 10000) => {
    if (d.exitCode !== undefined) return d.exitCode;
    d.child.kill('SIGTERM');
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(() => resolve('late'), ms); });
    const r = await Promise.race([d.exited, late]);
    clearTimeout(timer);
    if (r === 'late') {
      d.child.kill('SIGKILL');
      await d.exited;
      throw new Error(`switchboard did not exit within ${ms} ms of SIGTERM (killed)\n` +
                      `--- log ---\n${tail(d.logs.slice(d.logStart))}`);
    }
    return d.exitCode;
  };

  /** SIGKILL (a crash, for durability tests); resolves {code, signal}. */
  d.kill = async () => {
    if (d.exitCode === undefined) d.child.kill('SIGKILL');
    return d.exited;
  };

  /**
   * Starts the daemon again with the same config, data dir and port (stops
   * it first with SIGTERM if it is still running). Resolves the same handle.
   */
  d.restart = async ({ timeoutMs = startTimeoutMs } = {}) => {
    if (d.exitCode === undefined) await d.stop();
    const listen = d.host && d.port ? `${d.host}:${d.port}` : '127.0.0.1:0';
    return spawnOnce(listen, timeoutMs);
  };

  /** Kills the process if running and removes the temp dir. */
  d.cleanup = async () => {
    if (d.child && d.exitCode === undefined) { d.child.kill('SIGKILL'); await d.exited; }
    removeDir(dir);
  };

  return spawnOnce('127.0.0.1:0', opts.timeoutMs || startTimeoutMs);
}

function tail(lines, n = 40) {
  return lines.slice(-n).join('\n');
}

// --- HTTP ---------------------------------------------------------------------
/**
 * One HTTP request with node:http (no keep-alive, so nothing lingers).
 * body: string/Buffer as is; anything else is sent as JSON with
 * Content-Type application/json. localAddress picks the source address
 * (127.0.0.x) so per-address limits can be tested apart. Resolves {status,
 * headers, body, json} (json: the parsed body, or undefined when it is not
 * JSON).
 */
function request(url, { method = 'GET', headers = {}, body, timeoutMs = 10000, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const hdrs = { ...headers };
    let payload = null;
    if (body !== undefined && body !== null) {
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        payload = body;
      } else {
        payload = JSON.stringify(body);
        if (!Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-type')) {
          hdrs['Content-Type'] = 'application/json';
        }
      }
      hdrs['Content-Length'] = Buffer.byteLength(payload);
    }
    const req = http.request(url, { method, headers: hdrs, agent: false, localAddress }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload === null ? undefined : payload);
  });
}

/**
 * A plugins dir holding the real plugins (<build>/plugins) and the test
 * fixtures (<build>/test-plugins) side by side, as symlinks; removed with
 * the other temp dirs.
 */
function mixedPluginsDir() {
  const dir = makeTempDir('sb-plugins-');
  for (const src of [pluginsDir, path.join(buildDir, 'test-plugins')]) {
    for (const f of fs.readdirSync(src)) {
      if (f.endsWith('.so')) fs.symlinkSync(path.join(src, f), path.join(dir, f));
    }
  }
  return dir;
}

module.exports = {
  repoRoot,
  mixedPluginsDir,
  buildDir,
  binary,
  pluginsDir,
  defaultConfig,
  startDaemon,
  runDaemon,
  request,
  setArgs,
  makeTempDir,
  cleanupAll,
  LISTENING_RE,
};
