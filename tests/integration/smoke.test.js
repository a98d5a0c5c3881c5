'use strict';
// The daemon's command line and lifecycle: --version, --check, start, /healthz, SIGTERM.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  repoRoot, pluginsDir, defaultConfig, startDaemon, runDaemon, request, setArgs, makeTempDir,
} = require('./lib/daemon');

// The version CMake builds in: project(switchboard VERSION x.y.z).
const projectVersion = /project\(switchboard\s+VERSION\s+([0-9.]+)/
  .exec(fs.readFileSync(path.join(repoRoot, 'CMakeLists.txt'), 'utf8'))[1];

test('--version prints the project version and exits 0', async () => {
  const r = await runDaemon(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(projectVersion),
            `stdout should name version ${projectVersion}: ${JSON.stringify(r.stdout)}`);
});

test('--check accepts conf/switchboard.yaml and exits 0', async () => {
  const data = makeTempDir();
  const r = await runDaemon(['-c', defaultConfig, '--check',
    ...setArgs({ 'storage.path': data, plugins_dir: pluginsDir })]);
  assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
});

test('--check rejects an unknown key, naming file:line', async () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'bad.yaml');
  fs.writeFileSync(file, 'http:\n  listen: 127.0.0.1:0\n  lisen: 127.0.0.1:1\n');
  const r = await runDaemon(['-c', file, '--check',
    ...setArgs({ 'storage.path': dir, plugins_dir: pluginsDir })]);
  assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  const out = r.stdout + r.stderr;
  assert.match(out, /bad\.yaml:3(:\d+)?:/, 'the error names the file and line');
  assert.match(out, /lisen/, 'the error names the unknown key');
});

describe('a running daemon', () => {
  let d;
  before(async () => { d = await startDaemon(); });
  after(async () => { if (d) await d.cleanup(); });

  test('logs the port it listens on', () => {
    assert.ok(d.port > 0 && d.port < 65536, `port ${d.port}`);
  });

  test('GET /healthz answers 200', async () => {
    const r = await request(`${d.url}/healthz`);
    assert.equal(r.status, 200, r.body);
  });

  test('SIGTERM makes it exit 0', async () => {
    assert.equal(await d.stop(), 0, d.logs.slice(-20).join('\n'));
  });
});
