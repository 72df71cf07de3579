// Prompt-caching benchmark (see bench/README.md and docs/performance.md, "Prompt caching").
//
// Replays two synthetic but realistic 40-request agent sessions — one through
// /v1/chat/completions, one through /v1/responses (Codex's shape) — with ~10k tokens of tools and
// instructions and turns that add up to 12 parallel tool calls, through the real daemon, against
// bench/caching/fake_anthropic.mjs, which implements Anthropic's caching rules and bills each
// request. Each session runs with `prompt_caching: off`, `auto` (5-minute TTL) and `auto` with the
// 1-hour TTL; the chat session also runs with the client's own top-level cache_control (Anthropic's
// single automatic breakpoint) for comparison. Virtual time: think time between turns (and one
// 8-minute pause) advance the fake's clock, not the wall clock.
//
// Usage: node bench/caching/bench.mjs [--binary=build/claudegate] [--out=FILE.json]
// Every process started here is stopped by its pid; every wait has a deadline.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startFakeAnthropic, LOOKBACK_BLOCKS } from './fake_anthropic.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const opts = { binary: path.join(ROOT, 'build', 'claudegate'), out: null };
for (const arg of process.argv.slice(2)) {
  const [k, v] = arg.replace(/^--/, '').split('=');
  if (k === 'binary') opts.binary = path.resolve(v);
  else if (k === 'out') opts.out = path.resolve(v);
  else { console.error(`unknown option ${arg}`); process.exit(2); }
}
const MASTER_KEY = 'sk-bench-cache-0123456789abcdef0123456789ab';
const log = (...a) => console.error('[caching]', ...a);

// ---------------------------------------------------------------------------------------------
// Deterministic transcript generation (a seeded PRNG: every run replays the same sessions).
// ---------------------------------------------------------------------------------------------
function prng(seed) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}
const WORDS = ('the function returns a value when called with the path of a file in the repository; '
  + 'use this tool to read write search and edit source code, run tests, inspect build output, list '
  + 'directories, apply patches and report errors. Arguments must be absolute paths. Output is '
  + 'truncated after the limit. int main argc argv include struct return if else for while static '
  + 'const char buffer size error warning test passed failed line column module import export class')
  .split(/\s+/);
function prose(rand, chars) {
  let out = '';
  while (out.length < chars) out += `${WORDS[Math.floor(rand() * WORDS.length)]} `;
  return out.slice(0, chars).trim();
}

// ~10k tokens of tools and instructions, like a coding agent's (Codex sends ~27 KB).
function agentSetup(rand) {
  const tools = [];
  for (let i = 0; i < 16; i += 1) {
    const properties = {};
    for (let p = 0; p < 4; p += 1) properties[`arg_${p}`] = { type: 'string', description: prose(rand, 160) };
    tools.push({ name: `tool_${i}`, description: prose(rand, 1500), parameters: { type: 'object', properties, required: ['arg_0'] } });
  }
  return { instructions: prose(rand, 12000), tools };
}

// 40 requests (the first, then one per entry of CALLS). Turn t's answer: a short text plus CALLS[t] parallel tool calls (0 = a plain
// answer, after which the user writes a new instruction). Tool results are 200–4,000 characters.
const CALLS = [2, 1, 3, 1, 12, 1, 2, 0, 4, 1, 1, 8, 2, 1, 0, 3, 1, 12, 2, 1, 1, 0, 5, 2, 1, 10, 1, 2, 0, 3,
  1, 1, 6, 2, 0, 1, 12, 2, 1];
// Seconds between the answer and the next request (tool runs, user reading). Turn 26 is a coffee
// break longer than the 5-minute TTL.
const thinkSeconds = (t, rand) => (t === 26 ? 8 * 60 : 5 + Math.floor(rand() * 50));

function session(seed) {
  const rand = prng(seed);
  const setup = agentSetup(rand);
  const turns = [];
  turns.push({ user: `Task: ${prose(rand, 600)}` });
  for (let t = 0; t < CALLS.length; t += 1) {
    const calls = [];
    for (let c = 0; c < CALLS[t]; c += 1) {
      calls.push({ id: `call_${t}_${c}`, name: `tool_${Math.floor(rand() * 16)}`, args: JSON.stringify({ arg_0: `/repo/src/file_${t}_${c}.c` }), result: prose(rand, 200 + Math.floor(rand() * 3800)) });
    }
    turns.push({ answer: prose(rand, 80 + Math.floor(rand() * 400)), calls, user: calls.length ? null : `Next: ${prose(rand, 300)}`, think: thinkSeconds(t, rand) });
  }
  return { setup, turns };
}

// The Chat Completions request for request number `n` (0-based): the history so far.
function chatRequest(s, n, { topLevelCacheControl = false } = {}) {
  const messages = [{ role: 'system', content: s.setup.instructions }, { role: 'user', content: s.turns[0].user }];
  for (let t = 1; t <= n; t += 1) {
    const turn = s.turns[t];
    const assistant = { role: 'assistant', content: turn.answer };
    if (turn.calls.length) assistant.tool_calls = turn.calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.args } }));
    messages.push(assistant);
    for (const c of turn.calls) messages.push({ role: 'tool', tool_call_id: c.id, content: c.result });
    if (turn.user) messages.push({ role: 'user', content: turn.user });
  }
  const body = { model: 'sonnet', stream: true, stream_options: { include_usage: true }, messages, tools: s.setup.tools.map((f) => ({ type: 'function', function: f })) };
  if (topLevelCacheControl) body.cache_control = { type: 'ephemeral' };
  return body;
}

// The same history as a Responses request, as Codex sends it (instructions + input items).
function responsesRequest(s, n) {
  const input = [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: s.turns[0].user }] }];
  for (let t = 1; t <= n; t += 1) {
    const turn = s.turns[t];
    input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: turn.answer }] });
    for (const c of turn.calls) input.push({ type: 'function_call', call_id: c.id, name: c.name, arguments: c.args });
    for (const c of turn.calls) input.push({ type: 'function_call_output', call_id: c.id, output: c.result });
    if (turn.user) input.push({ type: 'message', role: 'user', content: [{ type: 'input_text', text: turn.user }] });
  }
  return { model: 'sonnet', stream: true, store: false, prompt_cache_key: 'bench-session', instructions: s.setup.instructions, input, tools: s.setup.tools.map((f) => ({ type: 'function', ...f })) };
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------
const children = new Set();
async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try { process.kill(child.pid, 'SIGTERM'); } catch { return; }
  const timer = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }, 10000);
  await exited;
  clearTimeout(timer);
}

async function startGateway(work, name, upstreamPort, caching) {
  const config = path.join(work, `${name}.yaml`);
  fs.writeFileSync(config, `claudegate:\n  threads: 1\n${caching}`);
  const logFile = path.join(work, `${name}.log`);
  const env = {
    ...process.env,
    LITELLM_MASTER_KEY: MASTER_KEY,
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${upstreamPort}`,
    CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-bench-cache',
    HOME: work,
    CLAUDE_CONFIG_DIR: path.join(work, 'claude'),
  };
  const child = spawn(opts.binary, ['--config', config, '--host', '127.0.0.1', '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  // The log goes to a file for the reader; the listening line is awaited on the stderr data
  // events (bounded), not polled for.
  const port = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${name}: not listening after 30 s (see ${logFile})`)), 30000);
    child.stderr.on('data', (chunk) => {
      fs.appendFileSync(logFile, chunk);
      if (text === null) return;  // already listening
      text += chunk;
      const m = text.match(/listening on [^\s]*?:(\d+)/);
      if (m) { text = null; clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('exit', () => { clearTimeout(timer); reject(new Error(`${name} exited (see ${logFile})`)); });
  });
  return { child, port, logFile };
}

async function post(port, route, body) {
  const res = await fetch(`http://127.0.0.1:${port}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${route}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------
const VARIANTS = [
  { name: 'off', caching: '  prompt_caching: off\n' },
  { name: 'auto (5m)', caching: '  prompt_caching: auto\n' },
  { name: 'auto (1h)', caching: '  prompt_caching: auto\n  prompt_cache_ttl: 1h\n' },
  { name: 'client top-level cache_control', caching: '  prompt_caching: auto\n', topLevel: true, routes: ['chat'] },
];

async function run(work, route, variant) {
  const clock = { now: 0 };
  const fake = await startFakeAnthropic({ clock });
  const gateway = await startGateway(work, `${route}-${variant.name.replace(/\W+/g, '_')}`, fake.port, variant.caching);
  try {
    const s = session(route === 'chat' ? 16 : 17);
    for (let n = 0; n < s.turns.length; n += 1) {
      if (route === 'chat') await post(gateway.port, '/v1/chat/completions', chatRequest(s, n, { topLevelCacheControl: variant.topLevel }));
      else await post(gateway.port, '/v1/responses', responsesRequest(s, n));
      if (n + 1 < s.turns.length) clock.now += (1 + s.turns[n + 1].think) * 1000;  // answer + think time
    }
    const t = fake.model.totals;
    const total = t.input_tokens + t.cache_creation_input_tokens + t.cache_read_input_tokens;
    return {
      route: route === 'chat' ? '/v1/chat/completions' : '/v1/responses',
      variant: variant.name,
      requests: t.requests,
      total_input_tokens: total,
      full_rate: t.input_tokens,
      cache_writes: t.cache_creation_input_tokens,
      cache_writes_5m: t.ephemeral_5m,
      cache_writes_1h: t.ephemeral_1h,
      cache_reads: t.cache_read_input_tokens,
      read_share: total ? t.cache_read_input_tokens / total : 0,
      // What the input costs in units of full-rate tokens: writes 1.25× (5m) / 2× (1h), reads 0.1×.
      cost_equivalent: t.input_tokens + 1.25 * t.ephemeral_5m + 2 * t.ephemeral_1h + 0.1 * t.cache_read_input_tokens,
      first_request_tokens: fake.model.perRequest[0].input_tokens + fake.model.perRequest[0].cache_creation_input_tokens,
      last_request_tokens: (({ input_tokens: a, cache_creation_input_tokens: b, cache_read_input_tokens: c }) => a + b + c)(fake.model.perRequest.at(-1)),
      misses: fake.model.perRequest.filter((r, i) => i > 0 && r.cache_read_input_tokens === 0).length,
      per_request: fake.model.perRequest.map(({ input_tokens, cache_creation_input_tokens, cache_read_input_tokens }) => [input_tokens, cache_creation_input_tokens, cache_read_input_tokens]),
    };
  } finally {
    await stop(gateway.child);
    await new Promise((r) => fake.server.close(r));
  }
}

async function main() {
  if (!fs.existsSync(opts.binary)) throw new Error(`no gateway binary at ${opts.binary}: build it first (cmake --build build --target claudegate)`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'claudegate-caching-'));
  const results = [];
  try {
    for (const route of ['chat', 'responses']) {
      for (const variant of VARIANTS) {
        if (variant.routes && !variant.routes.includes(route)) continue;
        log(`${route}: ${variant.name}`);
        results.push(await run(work, route, variant));
      }
    }
  } finally {
    for (const c of [...children]) await stop(c);
  }
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const lines = [
    `Prompt caching: ${results[0].requests}-request agent sessions; the first request is ${fmt(results[0].first_request_tokens)} tokens (tools + instructions + task), the last ${fmt(results[0].last_request_tokens)}; lookback ${LOOKBACK_BLOCKS} blocks; tokens = chars/4`,
    '',
    '| route | caching | input tokens | full rate | cache writes | cache reads | read share | cost (full-rate equiv.) | turns without a read |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const off = results.find((x) => x.route === r.route && x.variant === 'off');
    lines.push(`| ${r.route} | ${r.variant} | ${fmt(r.total_input_tokens)} | ${fmt(r.full_rate)} | ${fmt(r.cache_writes)} | ${fmt(r.cache_reads)} | ${(100 * r.read_share).toFixed(1)} % | ${fmt(r.cost_equivalent)} (${(100 * r.cost_equivalent / off.cost_equivalent).toFixed(0)} %) | ${r.misses} of ${r.requests - 1} |`);
  }
  console.log(lines.join('\n'));
  if (opts.out) fs.writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
  fs.rmSync(work, { recursive: true, force: true });
  const failing = results.filter((r) => r.variant.startsWith('auto') && r.read_share < 0.85);
  if (failing.length) {
    console.error(`below the 85 % target: ${failing.map((r) => `${r.route} ${r.variant}`).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch(async (e) => {
  console.error(e);
  for (const c of [...children]) await stop(c);
  process.exit(1);
});
