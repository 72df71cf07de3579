// Runs the claudegate binary for a test file: a fresh temporary HOME / CLAUDE_CONFIG_DIR (so no
// real credentials are found), an environment built from scratch (nothing leaks in from the
// developer's shell), port 0, and the chosen port read from the "listening on" log line.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withTimeout } from './util.js';

export const DEFAULT_BIN = '/work/main/build/claudegate';
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

/** The binary under test: $CLAUDEGATE_BIN (scripts/test-e2e sets it from its argument). */
export function daemonBinary() {
  return process.env.CLAUDEGATE_BIN || DEFAULT_BIN;
}

/**
 * Starts the daemon and waits (bounded, on stderr data events) for its listening line.
 * @param {object} opts
 * @param {string} opts.masterKey          LITELLM_MASTER_KEY
 * @param {string} [opts.oauthToken]       CLAUDE_CODE_OAUTH_TOKEN
 * @param {string} opts.upstreamUrl        ANTHROPIC_BASE_URL
 * @param {string} opts.caFile             SSL_CERT_FILE
 * @param {Record<string,string>} [opts.env]  extra variables
 * @param {string[]} [opts.args]           extra command-line arguments
 * @param {number} [opts.startTimeoutMs]
 */
export async function startDaemon({
  masterKey,
  oauthToken,
  upstreamUrl,
  caFile,
  env = {},
  args = [],
  bin = daemonBinary(),
  logLevel = 'debug',
  startTimeoutMs = 15_000,
}) {
  const home = mkdtempSync(path.join(tmpdir(), 'claudegate-e2e-home-'));
  const configDir = path.join(home, '.claude');
  mkdirSync(configDir);
  const childEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    CLAUDE_CONFIG_DIR: configDir,
    LITELLM_MASTER_KEY: masterKey,
    ANTHROPIC_BASE_URL: upstreamUrl,
    SSL_CERT_FILE: caFile,
    LOG_LEVEL: logLevel,
    ...(oauthToken ? { CLAUDE_CODE_OAUTH_TOKEN: oauthToken } : {}),
    ...env,
  };
  const child = spawn(bin, ['--host', '127.0.0.1', '--port', '0', ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let stderr = '';
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => (stdout += d));

  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const spawnError = new Promise((_, reject) => child.once('error', reject));
  // For the whole-suite secrets check (scripts/check-secrets): keep every daemon's log.
  const logDir = process.env.CLAUDEGATE_E2E_LOG_DIR;
  if (logDir) {
    child.once('close', () => {
      mkdirSync(logDir, { recursive: true });
      appendFileSync(path.join(logDir, `claudegate-${child.pid}.log`), stdout + stderr);
    });
  }

  const listening = new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = LISTENING.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    exited.then(({ code, signal }) =>
      reject(new Error(`claudegate exited before listening (code ${code}, signal ${signal}):\n${stderr}`)),
    );
  });

  let port;
  try {
    port = await withTimeout(
      Promise.race([listening, spawnError]),
      startTimeoutMs,
      `claudegate (${bin}) did not print its listening line; stderr so far:\n${stderr}`,
    );
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
    throw err;
  }

  let stopped = null;
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid,
    /** Everything the daemon wrote to stderr so far (its log). */
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    /**
     * SIGTERM, then wait (bounded) for the exit. Throws unless the exit code is 0.
     * Idempotent: later calls return the first call's result.
     */
    stop({ timeoutMs = 15_000 } = {}) {
      stopped ??= (async () => {
        try {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          let result;
          try {
            result = await withTimeout(exited, timeoutMs, 'claudegate did not exit after SIGTERM');
          } catch (err) {
            child.kill('SIGKILL');
            await exited;
            throw new Error(`${err.message}\nstderr:\n${stderr.slice(-4000)}`);
          }
          if (result.code !== 0) {
            throw new Error(
              `claudegate exited with code ${result.code} signal ${result.signal} (expected 0)\nstderr:\n${stderr.slice(-4000)}`,
            );
          }
          return result;
        } finally {
          rmSync(home, { recursive: true, force: true });
        }
      })();
      return stopped;
    },
  };
}
