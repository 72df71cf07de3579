// End-to-end: the real Claude Code CLI (npm @anthropic-ai/claude-code, pinned in package.json)
// → claudegate (the real binary) → a fake Anthropic upstream over verified TLS, fully offline.
//
// `claude -p` runs headless with ANTHROPIC_BASE_URL pointing at the daemon and the master key as
// ANTHROPIC_AUTH_TOKEN. A loopback "tripwire" proxy is set as HTTP(S)_PROXY (NO_PROXY covers only
// loopback), so any attempt of the CLI to reach the outside world is refused and recorded.
//
// If the CLI cannot run here (binary missing because the install script did not run, or it fails
// its own `--version`), the tests are skipped with the precise reason — never passed.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startStack, stopStack } from './support/stack.js';
import { newMessageId, sendError, sendJson, sendSse, textStream } from './support/fake-upstream.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT = { timeout: CLI_TIMEOUT_MS + 20_000 };

const MASTER_KEY_SECRET = randomBytes(24).toString('hex');
const OAUTH_TOKEN_SECRET = randomBytes(24).toString('hex');
const MASTER_KEY = `sk-e2e-${MASTER_KEY_SECRET}`;
const OAUTH_TOKEN = `sk-ant-oat01-e2e-${OAUTH_TOKEN_SECRET}`;

// What the fake upstream answers every /v1/messages call with.
const ANSWER = `Hello from the claudegate fake upstream ${randomBytes(4).toString('hex')}!`;

// ---------------------------------------------------------------------------------------------
// Finding and running the CLI
// ---------------------------------------------------------------------------------------------

const PKG_DIR = path.join(HERE, 'node_modules', '@anthropic-ai', 'claude-code');

function platformPackage() {
  const musl = process.platform === 'linux' && process.report?.getReport?.().header?.glibcVersionRuntime === undefined;
  return `@anthropic-ai/claude-code-${process.platform}-${process.arch}${musl ? '-musl' : ''}`;
}

/**
 * The native `claude` executable: bin/claude.exe once the package's postinstall has copied the
 * platform binary over the placeholder, otherwise the platform package's binary itself (npm may
 * decline to run install scripts). Returns {bin, version} or {reason} when there is none.
 */
function locateCli() {
  if (!existsSync(path.join(PKG_DIR, 'package.json'))) {
    return { reason: `@anthropic-ai/claude-code is not installed in ${path.dirname(PKG_DIR)} (run npm ci in tests/e2e)` };
  }
  const version = JSON.parse(readFileSync(path.join(PKG_DIR, 'package.json'), 'utf8')).version;
  const placeholder = path.join(PKG_DIR, 'bin', 'claude.exe');
  // The placeholder the package ships is a small stub; the real binary is ~100+ MB.
  if (existsSync(placeholder) && statSync(placeholder).size > 1024 * 1024) return { bin: placeholder, version };
  const platformBin = path.join(HERE, 'node_modules', platformPackage(), process.platform === 'win32' ? 'claude.exe' : 'claude');
  if (existsSync(platformBin)) return { bin: platformBin, version };
  return {
    version,
    reason:
      `@anthropic-ai/claude-code ${version} has no native binary here: ${placeholder} is the install-time placeholder ` +
      `(postinstall did not run) and the optional platform package ${platformPackage()} is not installed`,
  };
}

/** Runs the CLI bounded by timeoutMs; resolves {code, signal, stdout, stderr, timedOut}. */
function runCli(bin, args, { env, cwd, timeoutMs = CLI_TIMEOUT_MS }) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** A loopback HTTP proxy that refuses everything and records what tried to leave the machine. */
async function startTripwireProxy() {
  const attempts = [];
  const server = http.createServer((req, res) => {
    attempts.push(`${req.method} ${req.url}`);
    res.writeHead(403, { 'content-type': 'text/plain' });
    res.end('e2e: no network beyond loopback');
  });
  server.on('connect', (req, socket) => {
    attempts.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    attempts,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function allHeaderText(record) {
  return record.rawHeaders.join('\n');
}

function betas(record) {
  return String(record.headers['anthropic-beta'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

const cli = locateCli();

describe('Claude Code CLI through claudegate', () => {
  let certs;
  let fake;
  let daemon;
  let proxy;
  let home;
  let workdir;
  /** Set in before() when the CLI exists but cannot run here. */
  let cannotRun = cli.reason;

  before(async () => {
    if (cannotRun) {
      console.log(`# claude-code e2e skipped: ${cannotRun}`);
      return;
    }
    ({ certs, fake, daemon } = await startStack({ masterKey: MASTER_KEY, oauthToken: OAUTH_TOKEN }));
    proxy = await startTripwireProxy();
    home = mkdtempSync(path.join(tmpdir(), 'claudegate-e2e-claude-home-'));
    workdir = mkdtempSync(path.join(tmpdir(), 'claudegate-e2e-claude-cwd-'));
    mkdirSync(path.join(home, '.claude'));

    const probe = await runCli(cli.bin, ['--version'], { env: cliEnv(), cwd: workdir, timeoutMs: 20_000 });
    if (probe.code !== 0 || !probe.stdout.includes(cli.version)) {
      cannotRun =
        `\`${cli.bin} --version\` failed (code ${probe.code}, signal ${probe.signal}, timedOut ${probe.timedOut}): ` +
        `stdout=${JSON.stringify(probe.stdout.slice(0, 500))} stderr=${JSON.stringify(probe.stderr.slice(0, 1000))}`;
      console.log(`# claude-code e2e skipped: ${cannotRun}`);
    }
  });

  after(async () => {
    try {
      await stopStack({ certs, fake, daemon });
    } finally {
      await proxy?.close();
      if (home) rmSync(home, { recursive: true, force: true });
      if (workdir) rmSync(workdir, { recursive: true, force: true });
    }
  });

  /** An environment built from scratch: nothing from the developer's shell, no real credentials. */
  function cliEnv() {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      CLAUDE_CONFIG_DIR: path.join(home, '.claude'),
      TERM: 'dumb',
      ANTHROPIC_BASE_URL: daemon.baseUrl,
      ANTHROPIC_AUTH_TOKEN: MASTER_KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      // Anything not on loopback goes to the tripwire, which refuses and records it.
      HTTP_PROXY: proxy.url,
      HTTPS_PROXY: proxy.url,
      http_proxy: proxy.url,
      https_proxy: proxy.url,
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
    };
  }

  /** Answers whatever Claude Code sends, and logs it. */
  function scriptUpstream(log) {
    fake.handle((rec, res) => {
      log.push(`${rec.method} ${rec.url} stream=${rec.body?.stream} model=${rec.body?.model}`);
      const pathname = new URL(rec.url, 'https://upstream.invalid').pathname;
      if (rec.method === 'POST' && pathname === '/v1/messages/count_tokens') {
        return sendJson(res, 200, { input_tokens: 42 });
      }
      if (rec.method === 'POST' && pathname === '/v1/messages') {
        const model = rec.body?.model ?? 'claude-sonnet-5-5';
        if (rec.body?.stream) return sendSse(res, textStream({ text: ANSWER, model, usage: { input_tokens: 25, output_tokens: 9 } }));
        return sendJson(res, 200, {
          id: newMessageId(),
          type: 'message',
          role: 'assistant',
          model,
          content: [{ type: 'text', text: ANSWER }],
          stop_reason: 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: 25, output_tokens: 9 },
        });
      }
      return sendError(res, 404, 'not_found_error', `fake upstream: no route ${rec.method} ${pathname}`);
    });
  }

  beforeEach(() => {
    fake?.reset();
    if (proxy) proxy.attempts.length = 0;
  });

  afterEach(() => {
    if (!fake) return;
    for (const rec of fake.requests) {
      assert.ok(!allHeaderText(rec).includes(MASTER_KEY_SECRET), `master key in upstream headers of ${rec.url}`);
      assert.ok(!rec.rawBody.includes(MASTER_KEY_SECRET), `master key in upstream body of ${rec.url}`);
      assert.equal(rec.headers.authorization, `Bearer ${OAUTH_TOKEN}`, `upstream credential of ${rec.method} ${rec.url}`);
      assert.equal(rec.headers['x-api-key'], undefined);
    }
    assert.deepEqual(fake.handlerErrors.map(String), [], 'fake upstream handler/TLS errors');
    assert.deepEqual(proxy.attempts, [], 'the CLI tried to reach beyond loopback');
  });

  async function runPrompt(t, extraArgs) {
    if (cannotRun) {
      t.skip(cannotRun);
      return null;
    }
    const log = [];
    scriptUpstream(log);
    const args = ['-p', 'Say hello', ...extraArgs];
    const result = await runCli(cli.bin, args, { env: cliEnv(), cwd: workdir });
    const diag =
      `claude ${args.join(' ')} → code ${result.code} signal ${result.signal} timedOut ${result.timedOut}\n` +
      `upstream saw:\n  ${log.join('\n  ') || '(nothing)'}\n` +
      `stdout:\n${result.stdout.slice(0, 3000)}\nstderr:\n${result.stderr.slice(0, 3000)}\n` +
      `daemon log (tail):\n${daemon.stderr().slice(-3000)}`;
    t.diagnostic(`claude-code ${cli.version}: upstream saw ${log.length} request(s): ${log.join(' | ')}`);
    assert.equal(result.timedOut, false, `the CLI did not finish within ${CLI_TIMEOUT_MS} ms\n${diag}`);
    assert.equal(result.code, 0, `the CLI failed\n${diag}`);
    return { result, log, diag };
  }

  /** What every run must have sent upstream: at least one /v1/messages, credential swapped. */
  function assertUpstreamConversation(diag) {
    const messages = fake.requests.filter(
      (r) => r.method === 'POST' && new URL(r.url, 'https://upstream.invalid').pathname === '/v1/messages',
    );
    assert.ok(messages.length >= 1, `no /v1/messages call reached the upstream\n${diag}`);
    for (const rec of messages) {
      assert.match(String(rec.body?.model), /^claude-/, 'a full Claude model id went upstream');
      assert.ok(JSON.stringify(rec.body.messages).includes('Say hello'), 'the prompt went upstream');
      assert.ok(rec.headers['anthropic-version'], 'anthropic-version relayed');
      const merged = betas(rec);
      assert.ok(merged.includes('oauth-2025-04-20'), `OAuth beta missing: ${merged}`);
    }
    return messages;
  }

  test(`claude -p "Say hello" --output-format json (claude-code ${cli.version ?? 'n/a'})`, TEST_TIMEOUT, async (t) => {
    const run = await runPrompt(t, ['--output-format', 'json']);
    if (!run) return;
    let out;
    try {
      out = JSON.parse(run.result.stdout.trim());
    } catch (err) {
      assert.fail(`stdout is not JSON (${err.message})\n${run.diag}`);
    }
    assert.equal(out.is_error, false, run.diag);
    assert.equal(out.result, ANSWER, run.diag);
    assertUpstreamConversation(run.diag);
  });

  test(`claude -p "Say hello" (text output, claude-code ${cli.version ?? 'n/a'})`, TEST_TIMEOUT, async (t) => {
    const run = await runPrompt(t, []);
    if (!run) return;
    assert.equal(run.result.stdout.trim(), ANSWER, run.diag);
    const messages = assertUpstreamConversation(run.diag);
    // Claude Code streams, and its own betas survive the merge with the OAuth one.
    assert.ok(messages.some((r) => r.body?.stream === true), `no streamed call\n${run.diag}`);
    assert.ok(
      messages.some((r) => betas(r).some((b) => b.startsWith('claude-code-'))),
      `Claude Code's own anthropic-beta was not relayed: ${messages.map((r) => r.headers['anthropic-beta'])}`,
    );
  });
});
