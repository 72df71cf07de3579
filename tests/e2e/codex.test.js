// End-to-end: the real Codex CLI (`@openai/codex`, its native binary from npm) → claudegate (the
// real binary) → a fake Anthropic upstream over verified TLS. `codex exec` runs non-interactively
// with HOME in a temporary directory and a custom model provider pointing at the daemon
// (docs/codex.md), and completes a tool round trip: a freeform `apply_patch` (a `custom` tool),
// then a shell command (`exec_command`, a function tool), then the final answer.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startStack, stopStack } from './support/stack.js';
import { sendSse, textStream, toolUseStream } from './support/fake-upstream.js';
import { withTimeout } from './support/util.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CODEX_BIN = path.join(HERE, 'node_modules', '.bin', 'codex');
const MODEL_CATALOG = path.resolve(HERE, '..', '..', 'docs', 'codex', 'model-catalog.json');
const TEST_TIMEOUT = { timeout: 120_000 };
const MASTER_KEY = `sk-e2e-${randomBytes(24).toString('hex')}`;
const OAUTH_TOKEN = `sk-ant-oat01-e2e-${randomBytes(24).toString('hex')}`;
const PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+hello from claude\n*** End Patch\n';

/** The tool_result blocks of the last user message of an Anthropic request. */
function lastToolResults(body) {
  const last = body.messages.at(-1);
  if (last?.role !== 'user' || !Array.isArray(last.content)) return [];
  return last.content.filter((block) => block.type === 'tool_result');
}

function resultText(result) {
  if (typeof result.content === 'string') return result.content;
  return (result.content ?? []).filter((b) => b.type === 'text').map((b) => b.text).join('\n');
}

/**
 * Runs `codex exec` to completion (bounded) and returns its exit code and output. Codex gets a
 * fresh HOME with a config.toml naming the daemon as its provider; every other host is routed to
 * a closed local port, so nothing leaves the machine.
 */
async function runCodex({ baseUrl, workdir, prompt, catalog = true, fullAccess = true, websockets = false, timeoutMs = 90_000 }) {
  const home = mkdtempSync(path.join(tmpdir(), 'claudegate-e2e-codex-'));
  mkdirSync(path.join(home, '.codex'));
  writeFileSync(
    path.join(home, '.codex', 'config.toml'),
    [
      'model = "sonnet"',
      'model_provider = "claudegate"',
      ...(catalog ? [`model_catalog_json = ${JSON.stringify(MODEL_CATALOG)}`] : []),
      'check_for_update_on_startup = false',
      '',
      '[model_providers.claudegate]',
      'name = "claudegate"',
      `base_url = "${baseUrl}/v1"`,
      'env_key = "CLAUDEGATE_API_KEY"',
      'wire_api = "responses"',
      ...(websockets ? ['supports_websockets = true'] : []),
      '',
    ].join('\n'),
  );
  const lastMessage = path.join(home, 'last-message.txt');
  const child = spawn(
    CODEX_BIN,
    [
      'exec',
      '--skip-git-repo-check',
      ...(fullAccess ? ['--dangerously-bypass-approvals-and-sandbox'] : []),
      '-o',
      lastMessage,
      prompt,
    ],
    {
      cwd: workdir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        CODEX_HOME: path.join(home, '.codex'),
        CLAUDEGATE_API_KEY: MASTER_KEY,
        HTTPS_PROXY: 'http://127.0.0.1:9',
        HTTP_PROXY: 'http://127.0.0.1:9',
        NO_PROXY: '127.0.0.1,localhost',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const code = await withTimeout(exited, timeoutMs, `codex exec did not finish:\n${output}`);
    let message = '';
    try {
      message = readFileSync(lastMessage, 'utf8');
    } catch {
      // no last message: the assertions below show the output
    }
    return { code, output, message };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
}

/** WebSocket handshakes the daemon answered 101 on /v1/responses, from its metrics. */
async function handshakes(daemon) {
  const res = await fetch(`${daemon.baseUrl}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
  const text = await res.text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('claudegate_requests_total{') && line.includes('route="/v1/responses"') && line.includes('status_class="1xx"')) {
      total += Number(line.split(' ').at(-1));
    }
  }
  return total;
}

describe('claudegate with the Codex CLI', () => {
  let certs;
  let fake;
  let daemon;
  let workdir;

  before(async () => {
    ({ certs, fake, daemon } = await startStack({ masterKey: MASTER_KEY, oauthToken: OAUTH_TOKEN }));
  });

  after(async () => {
    await stopStack({ certs, fake, daemon });
  });

  beforeEach(() => {
    fake.reset();
    workdir = mkdtempSync(path.join(tmpdir(), 'claudegate-e2e-codex-work-'));
  });

  afterEach(() => {
    for (const rec of fake.requests) {
      assert.ok(!rec.rawBody.includes(MASTER_KEY), 'master key in upstream body');
      assert.equal(rec.headers.authorization, `Bearer ${OAUTH_TOKEN}`);
    }
    assert.deepEqual(fake.handlerErrors.map(String), [], 'fake upstream handler/TLS errors');
    rmSync(workdir, { recursive: true, force: true });
  });

  /** A freeform apply_patch, then a shell command, then the answer; checked at both ends. */
  async function patchAndShellRoundTrip({ websockets }) {
    const patchCall = `toolu_e2epatch${randomBytes(6).toString('hex')}`;
    const shellCall = `toolu_e2eshell${randomBytes(6).toString('hex')}`;
    fake.handle(async (rec, res) => {
      const body = rec.body;
      const results = lastToolResults(body);
      if (results.some((r) => r.tool_use_id === shellCall)) {
        return sendSse(res, textStream({ text: 'The file says: hello from claude' }));
      }
      if (results.some((r) => r.tool_use_id === patchCall)) {
        return sendSse(res, toolUseStream({ tools: [{ id: shellCall, name: 'exec_command', input: { cmd: 'cat hello.txt' } }] }));
      }
      // The freeform tool takes one string; its property name is the gateway's to choose.
      const patchTool = (body.tools ?? []).find((t) => t.name === 'apply_patch');
      const property = Object.keys(patchTool?.input_schema?.properties ?? {})[0] ?? 'input';
      return sendSse(res, toolUseStream({ text: 'Creating the file.', tools: [{ id: patchCall, name: 'apply_patch', input: { [property]: PATCH } }] }));
    });

    const run = await runCodex({ baseUrl: daemon.baseUrl, workdir, prompt: 'Create hello.txt, then show it.', websockets });
    assert.equal(run.code, 0, `codex exec failed:\n${run.output}`);
    assert.equal(readFileSync(path.join(workdir, 'hello.txt'), 'utf8'), 'hello from claude\n');
    assert.match(run.message, /hello from claude/);

    const calls = fake.requests.filter((r) => r.url.startsWith('/v1/messages'));
    assert.ok(calls.length >= 3, `expected 3 upstream calls, saw ${calls.length}`);
    const first = calls[0].body;
    const patchTool = first.tools.find((t) => t.name === 'apply_patch');
    assert.ok(patchTool, 'apply_patch reaches Claude as a tool');
    const properties = Object.values(patchTool.input_schema.properties);
    assert.equal(properties.length, 1, 'a freeform tool takes one string');
    assert.equal(properties[0].type, 'string');
    assert.match(patchTool.description, /Begin Patch/, 'the grammar goes into the description');
    assert.ok(first.tools.some((t) => t.name === 'exec_command'), 'the shell tool is a function tool');
    assert.ok(first.system, 'the developer messages become the system prompt');
    // With full access Codex asks for live web search, which is Claude's web search tool.
    assert.ok(first.tools.some((t) => String(t.type).startsWith('web_search_')), 'live web search');

    const patchResult = lastToolResults(calls[1].body).find((r) => r.tool_use_id === patchCall);
    assert.ok(patchResult, 'the custom_tool_call_output comes back as a tool_result');
    assert.match(resultText(patchResult), /hello\.txt/);
    const shellResult = lastToolResults(calls[2].body).find((r) => r.tool_use_id === shellCall);
    assert.ok(shellResult, 'the function_call_output comes back as a tool_result');
    assert.match(resultText(shellResult), /hello from claude/);
    // The earlier turns are replayed: the patch call is in the history of the last request.
    const history = JSON.stringify(calls[2].body.messages);
    assert.ok(history.includes(patchCall) && history.includes('Add File: hello.txt'));
  }

  test('codex exec: apply_patch (freeform) and a shell command round trip', TEST_TIMEOUT, async () => {
    await patchAndShellRoundTrip({ websockets: false });
  });

  test('codex exec over the Responses WebSocket (supports_websockets = true): the same round trip', TEST_TIMEOUT, async () => {
    const opened = await handshakes(daemon);
    const logStart = daemon.stderr().length;
    await patchAndShellRoundTrip({ websockets: true });
    // The opening handshake was answered 101, and every turn came over a socket (the access log
    // names the same client address for the 101 and for the turns it carried), none over HTTP.
    assert.ok((await handshakes(daemon)) > opened, 'Codex opened the Responses WebSocket');
    const log = daemon.stderr().slice(logStart).split('\n');
    const peer = (line) => /peer=(\S+)/.exec(line)?.[1];
    const sockets = new Set(log.filter((l) => l.includes('GET /v1/responses 101')).map(peer));
    const turns = log.filter((l) => l.includes('POST /v1/responses '));
    assert.ok(turns.length >= 3, `turns in the log: ${turns.length}`);
    for (const turn of turns) assert.ok(sockets.has(peer(turn)), `a turn over HTTP: ${turn}`);
  });

  test('codex exec as installed (no catalog, read-only sandbox): namespace tools, cached web search', TEST_TIMEOUT, async () => {
    fake.handle(async (rec, res) => sendSse(res, textStream({ text: 'Hello from Claude.' })));
    const run = await runCodex({ baseUrl: daemon.baseUrl, workdir, prompt: 'Say hello.', catalog: false, fullAccess: false });
    assert.equal(run.code, 0, `codex exec failed:\n${run.output}`);
    assert.match(run.message, /Hello from Claude\./);
    const calls = fake.requests.filter((r) => r.url.startsWith('/v1/messages'));
    assert.equal(calls.length, 1);
    const names = calls[0].body.tools.map((t) => t.name);
    // Codex declares its sub-agent tools as a namespace; they reach Claude flattened.
    assert.ok(names.some((n) => n.startsWith('multi_agent_v1')), `namespace tools flattened: ${names}`);
    // In its default sandbox Codex asks for cached web search (no live access): not made live.
    const hosted = calls[0].body.tools.filter((t) => t.type);
    assert.deepEqual(hosted, [], 'no live web search');
  });
});
