'use strict';
// Debian's Chromium, headless, driven through playwright-core, for the web
// pages' tests (the workspace, the web-chat widget).
//
//   const { launchBrowser } = require('./lib/browser');
//   const b = await launchBrowser();
//   const page = await b.newPage();          // a fresh context (own storage) per user
//   await page.goto(`${d.url}/workspace/`);
//   await b.close();
//
// The browser is /usr/bin/chromium (env SB_CHROMIUM overrides). It is not
// optional: `bash .ci/build.sh test` installs it, so a missing browser fails
// the test with a message saying how to get it, rather than skipping.
// SB_HEADFUL=1 shows the window (for debugging on a desktop).
const fs = require('node:fs');
const path = require('node:path');

const executablePath = process.env.SB_CHROMIUM || '/usr/bin/chromium';
const repoRoot = path.resolve(__dirname, '..', '..', '..');

function loadPlaywright() {
  try {
    return require('playwright-core');
  } catch (err) {
    throw new Error(`playwright-core is not installed (${err.message}): run \`npm ci\` in tests/ ` +
                    '(bash .ci/build.sh test does it)');
  }
}

/**
 * Launches Chromium. Resolves {browser, newContext(opts), newPage(opts), close()}.
 * newContext/newPage take playwright's context options (viewport, locale...);
 * defaults: 1280x800, locale ru-RU. Every page's console errors and uncaught
 * exceptions are collected in page.__errors (tests assert it stays empty).
 */
async function launchBrowser({ headless = process.env.SB_HEADFUL !== '1', args = [] } = {}) {
  if (!fs.existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: install Debian's chromium ` +
                    '(bash .ci/build.sh deps test, or apt-get install chromium) or set SB_CHROMIUM');
  }
  const { chromium } = loadPlaywright();
  const launchArgs = ['--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
    '--autoplay-policy=no-user-gesture-required', ...args];
  // Chromium's sandbox refuses to run as root (CI runs as root).
  if (typeof process.getuid === 'function' && process.getuid() === 0) launchArgs.push('--no-sandbox');
  const browser = await chromium.launch({ executablePath, headless, args: launchArgs, timeout: 30000 });
  const contexts = new Set();

  async function newContext(opts = {}) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ru-RU', ...opts });
    ctx.setDefaultTimeout(15000);
    contexts.add(ctx);
    return ctx;
  }

  async function newPage(opts = {}) {
    const ctx = await newContext(opts);
    const page = await ctx.newPage();
    watchErrors(page);
    return page;
  }

  return {
    browser,
    newContext,
    newPage,
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
    },
  };
}

/**
 * Collects uncaught exceptions and console.error calls into page.__errors.
 * Chromium's own "Failed to load resource" lines are left out: an HTTP error
 * answer (a 403 for a role, a 409 for a lost race) is the page's to handle.
 */
function watchErrors(page) {
  page.__errors = [];
  page.on('pageerror', (e) => page.__errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.__errors.push(`console: ${m.text()}`);
  });
  return page;
}

/** Saves a screenshot to <repo>/docs/<name> when SB_SCREENSHOTS=1; resolves the path or null. */
async function screenshot(page, name) {
  if (process.env.SB_SCREENSHOTS !== '1') return null;
  const file = path.join(repoRoot, 'docs', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, animations: 'disabled' });
  return file;
}

module.exports = { launchBrowser, watchErrors, screenshot, executablePath };
