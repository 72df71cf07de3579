// claudegate loopback performance harness. Started by bench/run, which installs the tools and
// builds the Release binary; see docs/performance.md for the method and how to read the output.
//
// Everything listens on 127.0.0.1 only. Every server started here is stopped by its pid, every
// load run is bounded in time (wrk -d, --timeout) and every wait has a deadline.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------
const opts = {
  binary: path.join(ROOT, 'build-bench', 'claudegate'),
  out: path.join(ROOT, 'build-bench', 'bench-results', new Date().toISOString().replace(/[:.]/g, '-')),
  runs: 3,
  duration: 5,
  conns: [1, 16, 64, 256],
  scenarios: ['auth', 'chat', 'chat_stream', 'messages'],
  load: true,
  memory: true,
  streams: [1000, 10000],
  sequential: 10000,
  profile: false,
  threads: 2,
  // --baseline=PATH: an earlier gateway binary measured in the same run, interleaved with the
  // others, so that a before/after ratio does not depend on how loaded the machine was.
  baseline: null,
};
for (const arg of process.argv.slice(2)) {
  const [k, v] = arg.replace(/^--/, '').split('=');
  if (k === 'binary') opts.binary = path.resolve(v);
  else if (k === 'baseline') opts.baseline = path.resolve(v);
  else if (k === 'out') opts.out = path.resolve(v);
  else if (k === 'runs') opts.runs = Number(v);
  else if (k === 'duration') opts.duration = Number(v);
  else if (k === 'conns') opts.conns = v.split(',').map(Number);
  else if (k === 'scenarios') { opts.scenarios = v.split(','); opts.scenariosGiven = true; }
  else if (k === 'streams') opts.streams = v.split(',').map(Number);
  else if (k === 'sequential') opts.sequential = Number(v);
  else if (k === 'threads') opts.threads = Number(v);
  else if (k === 'no-load') opts.load = false;
  else if (k === 'no-memory') opts.memory = false;
  else if (k === 'profile') opts.profile = true;
  else if (k === 'callgrind') opts.callgrind = true;
  else if (k === 'quick') Object.assign(opts, { runs: 1, duration: 2, streams: [1000], sequential: 2000 });
  else {
    console.error(`unknown option ${arg}`);
    process.exit(2);
  }
}
fs.mkdirSync(opts.out, { recursive: true });
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'claudegate-bench-'));
const MASTER_KEY = 'sk-bench-0123456789abcdef0123456789abcdef';
const log = (...a) => console.error('[bench]', ...a);

// ---------------------------------------------------------------------------------------------
// Process helpers: every child is tracked by pid and stopped by pid.
// ---------------------------------------------------------------------------------------------
const children = new Set();
function start(cmd, args, { env = {}, stdout = 'ignore', stderrFile } = {}) {
  const err = stderrFile ? fs.openSync(stderrFile, 'a') : 'ignore';
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', stdout, err] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
async function stop(child, signal = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try { process.kill(child.pid, signal); } catch { return; }
  const timer = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch {} }, 10000);
  await exited;
  clearTimeout(timer);
}
async function stopAll() {
  for (const c of [...children]) await stop(c);
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => { await stopAll(); process.exit(130); });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}
// nginx says nothing when it is ready: try to connect, at most 200 times 25 ms apart.
async function waitListening(port, child) {
  for (let i = 0; i < 200; ++i) {
    if (child.exitCode !== null) throw new Error(`process ${child.pid} exited (${child.exitCode})`);
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port}`);
}

// ---------------------------------------------------------------------------------------------
// /proc readings
// ---------------------------------------------------------------------------------------------
function rssKiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) : NaN;
}
function anonKiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/RssAnon:\s+(\d+) kB/);
  return m ? Number(m[1]) : NaN;
}
function hwmKiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return m ? Number(m[1]) : NaN;
}
// CPU time in ns of a set of processes (all their threads), from /proc/<pid>/task/*/schedstat.
function cpuNs(pids) {
  let total = 0;
  for (const pid of pids) {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try { total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch {}
    }
  }
  return total;
}
// nginx master + its workers.
function processTree(pid) {
  const pids = [pid];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

// ---------------------------------------------------------------------------------------------
// Certificates: a throwaway CA and a leaf for localhost/127.0.0.1 (ECDSA P-256, cheap handshakes).
// ---------------------------------------------------------------------------------------------
function makeCerts() {
  const d = path.join(WORK, 'tls');
  fs.mkdirSync(d);
  const run = (args) => {
    const r = spawnSync('openssl', args, { cwd: d, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  run(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '2', '-subj', '/CN=claudegate bench CA', '-out', 'ca.pem']);
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'leaf.key']);
  run(['req', '-new', '-key', 'leaf.key', '-subj', '/CN=localhost', '-out', 'leaf.csr']);
  fs.writeFileSync(path.join(d, 'leaf.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-sha256', '-extfile', 'leaf.ext', '-out', 'leaf.pem']);
  return { ca: path.join(d, 'ca.pem'), cert: path.join(d, 'leaf.pem'), key: path.join(d, 'leaf.key') };
}

// ---------------------------------------------------------------------------------------------
// nginx configurations
// ---------------------------------------------------------------------------------------------
// A single-quoted nginx string holding `text` verbatim.
const nginxString = (text) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function nginxCommon(name) {
  const d = path.join(WORK, name);
  fs.mkdirSync(d, { recursive: true });
  return { dir: d, head: `
worker_processes 2;
worker_rlimit_nofile 65536;
pid ${d}/nginx.pid;
error_log ${d}/error.log warn;
events { worker_connections 30000; multi_accept on; }
` };
}

// The fake Anthropic upstream. /v1/messages answers with the canned SSE stream, or with the canned
// JSON message when the request says `Accept: application/json` (the /v1/messages relay forwards
// the client's Accept; the chat route always asks for text/event-stream). Three listeners:
//   tls   HTTPS, what both proxies talk to;
//   plain the same over HTTP: the ceiling a client on loopback can reach with no proxy at all;
//   slow  HTTPS, the stream dribbled at 16 bytes/s after its first 1 KiB (memory phase).
function upstreamConf(ports, certs) {
  const { dir, head } = nginxCommon('upstream');
  // Every message gets an id of its own, as from Anthropic: nginx fills in $request_id (32 random
  // hex digits) per response. The Responses scenario with `store: true` saves each response under
  // it; with one fixed id each save replaced the last and the database never grew.
  const uniqueId = (text) => text.replace(/"msg_01Bench(Json|Stream)"/, '"msg_01$request_id"');
  const sse = uniqueId(fs.readFileSync(path.join(BENCH, 'data', 'upstream_stream.sse'), 'utf8'));
  const json = uniqueId(
    fs.readFileSync(path.join(BENCH, 'data', 'upstream_message.json'), 'utf8').trim(),
  );
  const locations = `
    location = /v1/messages {
      if ($http_accept ~* "application/json") { rewrite ^ /canned/json last; }
      rewrite ^ /canned/sse last;
    }
    location = /canned/sse { internal; default_type text/event-stream; return 200 ${nginxString(sse)}; }
    location = /canned/json { internal; default_type application/json; return 200 ${nginxString(json)}; }`;
  const conf = `${head}
http {
  access_log off;
  server_tokens off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_buffer_size 64k;
  ssl_certificate ${certs.cert};
  ssl_certificate_key ${certs.key};
  ssl_session_cache shared:up:10m;
  server { listen 127.0.0.1:${ports.upTls} ssl; ${locations} }
  server { listen 127.0.0.1:${ports.upPlain}; ${locations} }
  server { listen 127.0.0.1:${ports.upSlow} ssl; limit_rate 16; limit_rate_after 1024; ${locations} }
}
`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  return { dir, conf: path.join(dir, 'nginx.conf') };
}

// The baseline: nginx as an authenticating reverse proxy, no translation. Checks the bearer key
// with a map, swaps it for the upstream credential, and proxies over verified TLS with a
// keep-alive pool; buffering is off, as an SSE proxy needs.
function proxyConf(ports, certs) {
  const { dir, head } = nginxCommon('proxy');
  const conf = `${head}
http {
  access_log ${dir}/access.log;
  server_tokens off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_buffer_size 64k;
  map_hash_bucket_size 128;
  map $http_authorization $bench_authorized {
    default 0;
    "Bearer ${MASTER_KEY}" 1;
  }
  upstream anthropic {
    server 127.0.0.1:${ports.upTls};
    keepalive 256;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:${ports.proxy};
    default_type application/json;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host localhost;
    proxy_set_header Authorization "Bearer sk-ant-oat01-bench-upstream";
    proxy_buffering off;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate ${certs.ca};
    proxy_ssl_name localhost;
    proxy_ssl_server_name on;
    proxy_ssl_session_reuse on;
    location / {
      if ($bench_authorized = 0) {
        return 401 '{"error":{"message":"Invalid API key.","type":"invalid_request_error","code":"invalid_api_key"}}';
      }
      rewrite ^ /v1/messages break;
      proxy_pass https://anthropic;
    }
  }
}
`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  return { dir, conf: path.join(dir, 'nginx.conf') };
}

async function startNginx(conf, port) {
  const check = spawnSync('nginx', ['-t', '-q', '-c', conf.conf, '-p', conf.dir, '-g', 'daemon off;'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t ${conf.conf}: ${check.stderr}`);
  const child = start('nginx', ['-c', conf.conf, '-p', conf.dir, '-g', 'daemon off;'], { stderrFile: path.join(conf.dir, 'stderr.log') });
  await waitListening(port, child);
  return child;
}

// ---------------------------------------------------------------------------------------------
// claudegate
// ---------------------------------------------------------------------------------------------
function gatewayConfig(name, extra = '') {
  const file = path.join(WORK, `${name}.yaml`);
  // auth_throttle off: the `auth` scenario measures rejecting a wrong key, which the throttle
  // would turn into 429s after ten (nginx's map has no throttle either).
  fs.writeFileSync(file, `claudegate:
  threads: ${opts.threads}
  auth_throttle:
    max_failures: 0
  limits:
    max_connections: 30000
  upstream:
    max_idle_connections: 512
${extra}`);
  return file;
}

// Starts the gateway and resolves once it logs "listening"; returns the ms from spawn to that line.
async function startGateway(name, { port, upstreamPort, config, wrapper = [], binary = opts.binary }) {
  const logFile = path.join(WORK, `${name}.log`);
  const env = {
    LITELLM_MASTER_KEY: MASTER_KEY,
    ANTHROPIC_BASE_URL: `https://127.0.0.1:${upstreamPort}`,
    SSL_CERT_FILE: CERTS.ca,
    CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-bench-upstream',
    HOME: WORK,
    CLAUDE_CONFIG_DIR: path.join(WORK, 'claude'),
    CLAUDEGATE_DATA_DIR: path.join(WORK, `${name}-data`),  // the store of stored responses
  };
  const args = ['--config', config, '--host', '127.0.0.1', '--port', String(port)];
  // The log goes straight to a file (as nginx's access log does), never through a pipe this
  // process would have to drain; inotify on the file tells when "listening" is written.
  fs.writeFileSync(logFile, '');
  const fd = fs.openSync(logFile, 'a');
  let resolveListening;
  let rejectListening;
  const listening = new Promise((resolve, reject) => { resolveListening = resolve; rejectListening = reject; });
  const watcher = fs.watch(logFile, () => {
    if (fs.readFileSync(logFile, 'utf8').includes('listening on')) resolveListening(process.hrtime.bigint());
  });
  const t0 = process.hrtime.bigint();
  const [cmd, ...rest] = wrapper.length ? [...wrapper, binary, ...args] : [binary, ...args];
  const child = spawn(cmd, rest, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', fd] });
  fs.closeSync(fd);
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.once('exit', (code) => rejectListening(new Error(`${name} exited with ${code} (see ${logFile})`)));
  const timer = setTimeout(() => rejectListening(new Error(`${name}: not listening after 30 s (see ${logFile})`)), 30000);
  let startupMs;
  try {
    startupMs = Number((await listening) - t0) / 1e6;
  } finally {
    clearTimeout(timer);
    watcher.close();
  }
  return { child, startupMs, logFile };
}

// ---------------------------------------------------------------------------------------------
// Load: wrk with bench/lua/post.lua
// ---------------------------------------------------------------------------------------------
const DATA = path.join(BENCH, 'data');
const SCENARIOS = {
  // The auth path alone: a wrong key, answered 401 locally (no upstream).
  auth: { body: 'chat_request.json', path: '/v1/chat/completions', key: 'sk-wrong-key-000000000000000000000000', accept: 'application/json', ceiling: false, expect: 401 },
  // nginx and the ceiling relay what the upstream sends for the chat route: the SSE stream.
  chat: { body: 'chat_request.json', path: '/v1/chat/completions', key: MASTER_KEY, accept: 'application/json', upstreamAccept: 'text/event-stream', expect: 200 },
  chat_stream: { body: 'chat_stream_request.json', path: '/v1/chat/completions', key: MASTER_KEY, accept: 'text/event-stream', expect: 200 },
  messages: { body: 'messages_request.json', path: '/v1/messages', key: MASTER_KEY, accept: 'application/json', expect: 200, extra: 'anthropic-version: 2023-06-01' },
  // The Responses route without and with the store (issue #17: store: true keeps ≥ 0.95× the
  // req/s of store: false). Not in the default list: run them with --scenarios=responses,responses_store.
  responses: { body: 'responses_request.json', path: '/v1/responses', key: MASTER_KEY, accept: 'application/json', upstreamAccept: 'text/event-stream', expect: 200 },
  responses_store: { body: 'responses_store_request.json', path: '/v1/responses', key: MASTER_KEY, accept: 'application/json', upstreamAccept: 'text/event-stream', expect: 200 },
  // The chat scenario with a virtual key whose every limit is checked (issue #19: ≤ 5 % more CPU
  // per request than with the master key, in the same run). Only the claudegate under test has
  // the key (generated in loadPhase); nginx, the ceiling and a --baseline binary are skipped.
  // Not in the default list: run it with --scenarios=chat,chat_key.
  chat_key: { body: 'chat_request.json', path: '/v1/chat/completions', virtualKey: true, accept: 'application/json', upstreamAccept: 'text/event-stream', expect: 200, ceiling: false },
};

// Virtual keys by target, for the scenarios that use one (generated in loadPhase).
const virtualKeys = {};
const keyOf = (s, target) => (s.virtualKey ? virtualKeys[target] : s.key);
const skips = (scenario, target) => (target === 'ceiling' && SCENARIOS[scenario].ceiling === false) ||
  (SCENARIOS[scenario].virtualKey && !virtualKeys[target]);

// A virtual key with every limit set high enough never to be hit, so the bench pays for each check.
async function generateVirtualKey(port) {
  const body = JSON.stringify({ key_alias: `bench-${port}`, models: ['all-proxy-models'], rpm_limit: 1e9,
    tpm_limit: 1e12, max_parallel_requests: 1e6, max_budget: 1e9, budget_duration: '30d' });
  const res = await request({ port, path: '/key/generate', body,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` } });
  if (res.status !== 200) throw new Error(`/key/generate on ${port}: ${res.status}: ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body).key;
}

// The targets that are a claudegate binary (the one under test and the --baseline one).
const isGateway = (target) => target === 'claudegate' || target === 'before';

function wrk({ port, scenario, conns, target, duration = opts.duration }) {
  const s = SCENARIOS[scenario];
  const toCeiling = target === 'ceiling';
  const headers = [
    toCeiling ? 'x-api-key: sk-ant-oat01-bench-upstream' : `Authorization: Bearer ${keyOf(s, target)}`,
    `Accept: ${!isGateway(target) && s.upstreamAccept ? s.upstreamAccept : s.accept}`,
  ];
  if (s.extra || toCeiling) headers.push('anthropic-version: 2023-06-01');
  const env = {
    BENCH_PATH: toCeiling ? '/v1/messages' : s.path,
    BENCH_BODY: path.join(DATA, s.body),
    BENCH_HEADERS: headers.join('|'),
  };
  const threads = Math.min(2, conns);
  const r = spawnSync('wrk', ['-t', String(threads), '-c', String(conns), '-d', `${duration}s`, '--timeout', '5s',
    '-s', path.join(BENCH, 'lua', 'post.lua'), `http://127.0.0.1:${port}`],
  { env: { ...process.env, ...env }, encoding: 'utf8', timeout: (duration + 30) * 1000 });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk gave no summary: ${r.stdout} ${r.stderr}`);
  const j = JSON.parse(line.slice('BENCH_JSON '.length));
  j.rps = j.requests / (j.duration_us / 1e6);
  // A 401 is the expected answer in the auth scenario; elsewhere any non-2xx is an error.
  j.errors = j.err_connect + j.err_read + j.err_write + j.err_timeout + (s.expect === 200 ? j.err_status : 0);
  if (s.expect === 401 && j.err_status !== j.requests) j.errors += Math.abs(j.requests - j.err_status);
  return j;
}

// Checks once, before measuring, that every target answers each scenario correctly, so a
// misconfiguration cannot pass for a fast result.
async function probe(port, scenario, target) {
  const s = SCENARIOS[scenario];
  const toCeiling = target === 'ceiling';
  const body = fs.readFileSync(path.join(DATA, s.body));
  const headers = { 'content-type': 'application/json', accept: !isGateway(target) && s.upstreamAccept ? s.upstreamAccept : s.accept, 'anthropic-version': '2023-06-01' };
  if (!toCeiling) headers.authorization = `Bearer ${keyOf(s, target)}`;
  const res = await request({ port, path: toCeiling ? '/v1/messages' : s.path, headers, body });
  if (res.status !== s.expect) throw new Error(`${target} ${scenario}: status ${res.status}: ${res.body.slice(0, 300)}`);
  return res;
}

function request({ port, path: p, headers, body, agent = false, timeoutMs = 10000 }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method: 'POST', headers, agent }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

async function loadPhase(ports, procs) {
  const targets = { ceiling: ports.upPlain, nginx: ports.proxy, claudegate: ports.gateway };
  const pidsOf = {
    ceiling: processTree(procs.upstream.pid),
    nginx: processTree(procs.proxy.pid),
    claudegate: [procs.gateway.pid],
  };
  if (procs.before) {
    targets.before = ports.before;
    pidsOf.before = [procs.before.pid];
  }
  if (opts.scenarios.some((scenario) => SCENARIOS[scenario].virtualKey)) {
    virtualKeys.claudegate = await generateVirtualKey(targets.claudegate);
  }
  for (const scenario of opts.scenarios) {
    for (const target of Object.keys(targets)) {
      if (skips(scenario, target)) continue;
      await probe(targets[target], scenario, target);
    }
  }
  // Warm-up: fill pools and caches once per target.
  for (const target of Object.keys(targets).filter((t) => t !== 'ceiling')) wrk({ port: targets[target], scenario: 'chat', conns: 64, target, duration: 1 });

  const results = {};  // key scenario/conns/target → [runs]
  const total = opts.runs * opts.scenarios.length * opts.conns.length;
  let step = 0;
  // Runs are interleaved (run 1 of everything, then run 2, …) so that noise from other work on
  // the machine spreads over all targets instead of hitting one of them.
  for (let run = 1; run <= opts.runs; ++run) {
    for (const scenario of opts.scenarios) {
      for (const conns of opts.conns) {
        ++step;
        log(`run ${run}/${opts.runs} ${scenario} c=${conns} (${step}/${total})`);
        for (const target of Object.keys(targets)) {
          if (skips(scenario, target)) continue;
          const upBefore = cpuNs(pidsOf.ceiling);
          const before = cpuNs(pidsOf[target]);
          const r = wrk({ port: targets[target], scenario, conns, target });
          r.cpu_us_per_req = (cpuNs(pidsOf[target]) - before) / 1e3 / Math.max(1, r.requests);
          r.upstream_cpu_us_per_req = (cpuNs(pidsOf.ceiling) - upBefore) / 1e3 / Math.max(1, r.requests);
          (results[`${scenario}/${conns}/${target}`] ||= []).push(r);
        }
      }
    }
  }
  const summary = {};
  for (const [key, runs] of Object.entries(results)) {
    summary[key] = {
      runs: runs.length,
      rps: median(runs.map((r) => r.rps)),
      p50_us: median(runs.map((r) => r.p50_us)),
      p99_us: median(runs.map((r) => r.p99_us)),
      cpu_us_per_req: median(runs.map((r) => r.cpu_us_per_req)),
      upstream_cpu_us_per_req: median(runs.map((r) => r.upstream_cpu_us_per_req)),
      errors: runs.reduce((a, r) => a + r.errors, 0),
      raw: runs,
    };
  }
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Memory: idle, N concurrent open streams, and many sequential streamed requests.
// ---------------------------------------------------------------------------------------------
// Opens n streamed chat requests at once (one connection each) against a slow upstream and
// resolves once every one has received its first body bytes, or rejects at the deadline.
function openStreams(port, n, deadlineMs) {
  const body = fs.readFileSync(path.join(DATA, 'chat_stream_request.json'));
  const reqs = [];
  let open = 0;
  let failed = 0;
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(), deadlineMs);
    const finish = () => { clearTimeout(timer); resolve({ open, failed, close: () => reqs.forEach((r) => r.destroy()) }); };
    for (let i = 0; i < n; ++i) {
      const req = http.request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent: false,
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json', accept: 'text/event-stream' } }, (res) => {
        let counted = false;
        res.on('data', () => {
          if (!counted) { counted = true; if (res.statusCode === 200) ++open; else ++failed; if (open + failed === n) finish(); }
        });
        res.on('error', () => {});
      });
      req.on('error', () => { ++failed; if (open + failed === n) finish(); });
      req.end(body);
      reqs.push(req);
    }
  });
}

// `total` streamed chat requests over `concurrency` keep-alive connections.
async function sequentialStreams(port, total, concurrency) {
  const body = fs.readFileSync(path.join(DATA, 'chat_stream_request.json'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let bad = 0;
  const worker = async () => {
    while (next < total) {
      ++next;
      const r = await request({ port, path: '/v1/chat/completions', agent, body,
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json', accept: 'text/event-stream' } }).catch(() => ({ status: 0, body: '' }));
      if (r.status !== 200 || !r.body.includes('[DONE]')) ++bad;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return bad;
}

async function waitConnectionsGone(port, deadlineMs) {
  // The gateway notices closed clients and drops their upstream requests; give it a bounded time.
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const r = spawnSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
    if (!r.stdout.trim()) return true;
    await sleep(250);
  }
  return false;
}

async function memoryPhase(ports, binary = opts.binary, streams = opts.streams, sequential = opts.sequential) {
  const mem = { binary };
  // Start-up time and idle RSS: five fresh processes, medians.
  const starts = [];
  const idles = [];
  const anons = [];
  for (let i = 0; i < 5; ++i) {
    const g = await startGateway(`gateway-start-${i}`, { port: ports.memGateway, upstreamPort: ports.upSlow, config: gatewayConfig('memory'), binary });
    starts.push(g.startupMs);
    await sleep(200);
    idles.push(rssKiB(g.child.pid));
    anons.push(anonKiB(g.child.pid));
    await stop(g.child);
  }
  mem.startup_ms = { median: median(starts), all: starts };
  mem.idle_rss_kib = { median: median(idles), all: idles };
  mem.idle_rss_anon_kib = { median: median(anons), all: anons };

  // Concurrent streams held open by the slow upstream.
  mem.streams = [];
  // Each open stream holds two descriptors in the gateway (client and upstream sockets), so the
  // descriptor limit caps n; a capped n is reported as such.
  const fdLimit = Number((fs.readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+(\d+)/) || [])[1]) || 1024;
  mem.fd_limit = fdLimit;
  for (const wanted of streams) {
    const n = Math.min(wanted, Math.floor((fdLimit - 200) / 2));
    if (n < wanted) log(`descriptor limit ${fdLimit}: ${wanted} streams capped to ${n}`);
    const g = await startGateway(`gateway-streams-${n}`, { port: ports.memGateway, upstreamPort: ports.upSlow, config: gatewayConfig('memory'), binary });
    await sleep(200);
    const idle = rssKiB(g.child.pid);
    const t0 = Date.now();
    const s = await openStreams(ports.memGateway, n, 90000);
    const openMs = Date.now() - t0;
    await sleep(1000);
    const rss = rssKiB(g.child.pid);
    const entry = { n, wanted, open: s.open, failed: s.failed, open_ms: openMs, idle_rss_kib: idle, rss_kib: rss,
      bytes_per_stream: ((rss - idle) * 1024) / Math.max(1, s.open) };
    s.close();
    entry.drained = await waitConnectionsGone(ports.memGateway, 30000);
    await sleep(500);
    entry.rss_after_close_kib = rssKiB(g.child.pid);
    // The gateway notices thousands of hang-ups over a few seconds (and trims freed memory at a
    // quarter of the peak and at zero), so RSS is read once more, later.
    await sleep(5000);
    entry.rss_after_close_5s_kib = rssKiB(g.child.pid);
    entry.hwm_kib = hwmKiB(g.child.pid);
    mem.streams.push(entry);
    log(`streams n=${n}: open=${s.open} failed=${s.failed} rss=${(rss / 1024).toFixed(1)} MiB`);
    await stop(g.child);
  }

  // Sequential streamed requests against the fast upstream: RSS must stay flat.
  if (sequential > 0) {
    const g = await startGateway('gateway-sequential', { port: ports.memGateway, upstreamPort: ports.upTls, config: gatewayConfig('memory'), binary });
    const bad0 = await sequentialStreams(ports.memGateway, 200, 16);  // warm-up: pools, arenas
    const before = rssKiB(g.child.pid);
    const bad1 = await sequentialStreams(ports.memGateway, sequential, 16);
    const after1 = rssKiB(g.child.pid);
    const bad2 = await sequentialStreams(ports.memGateway, sequential, 16);
    const after2 = rssKiB(g.child.pid);
    mem.sequential = { requests: sequential, concurrency: 16, rss_before_kib: before, rss_after_kib: after1,
      rss_after_second_batch_kib: after2, failed: bad0 + bad1 + bad2 };
    await stop(g.child);
  }
  return mem;
}

// ---------------------------------------------------------------------------------------------
// Profile: perf (cpu-clock, works without hardware counters) on the gateway under 64-connection
// streamed-chat load.
// ---------------------------------------------------------------------------------------------
async function profilePhase(ports) {
  const perfOk = spawnSync('perf', ['record', '-e', 'cpu-clock', '-o', path.join(WORK, 'perf-check.data'), '--', 'true'], { encoding: 'utf8' }).status === 0;
  if (!perfOk) { log('perf unavailable: skipping the profile'); return null; }
  const reports = {};
  // --scenarios picks what is profiled too (the 401 path has nothing worth a profile).
  const profiled = opts.scenariosGiven ? opts.scenarios.filter((s) => s !== 'auth') : ['chat_stream', 'chat', 'messages'];
  for (const scenario of profiled) {
    const g = await startGateway(`gateway-profile-${scenario}`, { port: ports.memGateway, upstreamPort: ports.upTls, config: gatewayConfig('profile') });
    wrk({ port: ports.memGateway, scenario, conns: 64, target: 'claudegate', duration: 1 });
    const data = path.join(opts.out, `perf-${scenario}.data`);
    const perf = start('perf', ['record', '-e', 'cpu-clock', '-F', '1999', '-g', '-p', String(g.child.pid), '-o', data]);
    await sleep(300);
    wrk({ port: ports.memGateway, scenario, conns: 64, target: 'claudegate', duration: Math.max(3, opts.duration) });
    await stop(perf, 'SIGINT');
    await stop(g.child);
    const rep = spawnSync('perf', ['report', '-i', data, '--stdio', '--no-children', '--sort', 'dso,symbol', '--percent-limit', '0.7', '-g', 'none'],
      { encoding: 'utf8', maxBuffer: 64 << 20 });
    const dso = spawnSync('perf', ['report', '-i', data, '--stdio', '--no-children', '--sort', 'dso', '-g', 'none'],
      { encoding: 'utf8', maxBuffer: 64 << 20 });
    fs.writeFileSync(path.join(opts.out, `perf-${scenario}.txt`), `${dso.stdout}\n${rep.stdout}`);
    reports[scenario] = path.join(opts.out, `perf-${scenario}.txt`);
  }
  return reports;
}

// Instruction counts per request under valgrind's callgrind: immune to the noise of a shared
// machine, and inclusive per function. 4 connections for 8 s per scenario (valgrind is ~50× slower).
async function callgrindPhase(ports) {
  const reports = {};
  // chat_key (asked for with --scenarios) beside chat: the cost of a virtual key's checks, in
  // instructions per request rather than noisy CPU time (issue #19's 5 % target).
  const withKey = opts.scenarios.includes('chat_key') ? ['chat_key'] : [];
  for (const scenario of ['chat_stream', 'chat', ...withKey, 'messages', 'auth']) {
    const outFile = path.join(opts.out, `callgrind-${scenario}.out`);
    const g = await startGateway(`gateway-callgrind-${scenario}`, { port: ports.memGateway, upstreamPort: ports.upTls,
      config: gatewayConfig('profile'), wrapper: ['valgrind', '--tool=callgrind', `--callgrind-out-file=${outFile}`] });
    if (SCENARIOS[scenario].virtualKey) virtualKeys.claudegate = await generateVirtualKey(ports.memGateway);
    wrk({ port: ports.memGateway, scenario, conns: 4, target: 'claudegate', duration: 2 });
    spawnSync('callgrind_control', ['--zero', String(g.child.pid)]);
    const r = wrk({ port: ports.memGateway, scenario, conns: 4, target: 'claudegate', duration: 8 });
    spawnSync('callgrind_control', ['--dump', String(g.child.pid)]);
    await stop(g.child);
    // The explicit dump (.1) covers exactly the measured window: counters were zeroed after warm-up.
    const dumps = [`${outFile}.1`];
    const ann = spawnSync('callgrind_annotate', ['--inclusive=yes', '--threshold=99', ...dumps], { encoding: 'utf8', maxBuffer: 256 << 20 });
    const self = spawnSync('callgrind_annotate', ['--threshold=95', ...dumps], { encoding: 'utf8', maxBuffer: 256 << 20 });
    const txt = path.join(opts.out, `callgrind-${scenario}.txt`);
    fs.writeFileSync(txt, `requests measured: ${r.requests} (wrk -c 4 -d 8s under callgrind)\n\n== inclusive\n${ann.stdout}\n== self\n${self.stdout}`);
    reports[`callgrind-${scenario}`] = txt;
    log(`callgrind ${scenario}: ${r.requests} requests -> ${txt}`);
  }
  return reports;
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const ms = (us) => (Number.isFinite(us) ? (us / 1000).toFixed(2) : '—');

// The memory rows for one binary.
function memoryRows(mem, title) {
  const lines = [`| memory: ${title} | value |`, '|---|---|'];
  lines.push(`| start → listening (median of 5) | ${f1(mem.startup_ms.median)} ms |`);
  lines.push(`| idle RSS (median of 5 fresh processes) | ${f2(mem.idle_rss_kib.median / 1024)} MiB, of which anonymous (RssAnon) ${f2(mem.idle_rss_anon_kib.median / 1024)} MiB; the rest is file-backed library and binary pages |`);
  for (const s of mem.streams) {
    lines.push(`| ${f0(s.n)} open streams${s.n < s.wanted ? ` (${f0(s.wanted)} asked; fd limit ${mem.fd_limit})` : ''} (${s.open} open, ${s.failed} failed, ${f0(s.open_ms)} ms to open) | RSS ${f2(s.rss_kib / 1024)} MiB (idle ${f2(s.idle_rss_kib / 1024)}), ${f0(s.bytes_per_stream)} B/stream; after close ${f2(s.rss_after_close_kib / 1024)} MiB, 5 s later ${f2(s.rss_after_close_5s_kib / 1024)} MiB; peak ${f2(s.hwm_kib / 1024)} MiB |`);
  }
  if (mem.sequential) {
    const q = mem.sequential;
    lines.push(`| ${f0(q.requests)} sequential streamed chats (16 at a time) | RSS ${f2(q.rss_before_kib / 1024)} → ${f2(q.rss_after_kib / 1024)} MiB, after a second batch ${f2(q.rss_after_second_batch_kib / 1024)} MiB; ${q.failed} failed |`);
  }
  lines.push('');
  return lines;
}

function report(load, mem, memBefore, profile, machine) {
  const lines = [];
  lines.push(`# claudegate loopback benchmark, ${new Date().toISOString()}`, '');
  lines.push(`machine: ${machine}`, '');
  lines.push(`runs: ${opts.runs} × ${opts.duration} s per cell (medians shown); gateway threads: ${opts.threads}; wrk -t min(2,c)`, '');
  if (load) {
    const withBefore = Boolean(opts.baseline);
    lines.push(`| scenario | conns | ceiling req/s | ceiling p50/p99 ms | nginx req/s | nginx p50/p99 ms | nginx CPU µs/req | claudegate req/s | claudegate p50/p99 ms | claudegate CPU µs/req | cg/nginx req/s | cg added p50/p99 µs | nginx added p50/p99 µs |${withBefore ? ' before req/s | before p50/p99 ms | before CPU µs/req | before/nginx req/s | cg/before req/s |' : ''} errors |`);
    lines.push(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|${withBefore ? '---:|---:|---:|---:|---:|' : ''}---:|`);
    for (const scenario of opts.scenarios) {
      for (const conns of opts.conns) {
        const c = load[`${scenario}/${conns}/ceiling`];
        const n = load[`${scenario}/${conns}/nginx`];
        const g = load[`${scenario}/${conns}/claudegate`];
        if (!n || !g) continue;
        const b = load[`${scenario}/${conns}/before`];
        const added = (x) => (c ? `${f0(x.p50_us - c.p50_us)} / ${f0(x.p99_us - c.p99_us)}` : '—');
        const beforeCells = withBefore
          ? (b ? ` ${f0(b.rps)} | ${ms(b.p50_us)} / ${ms(b.p99_us)} | ${f1(b.cpu_us_per_req)} | ${f2(b.rps / n.rps)} | **${f2(g.rps / b.rps)}** |` : ' — | — | — | — | — |')
          : '';
        lines.push(`| ${scenario} | ${conns} | ${c ? f0(c.rps) : '—'} | ${c ? `${ms(c.p50_us)} / ${ms(c.p99_us)}` : '—'} | ${f0(n.rps)} | ${ms(n.p50_us)} / ${ms(n.p99_us)} | ${f1(n.cpu_us_per_req)} | ${f0(g.rps)} | ${ms(g.p50_us)} / ${ms(g.p99_us)} | ${f1(g.cpu_us_per_req)} | **${f2(g.rps / n.rps)}** | ${added(g)} | ${added(n)} |${beforeCells} ${(c ? c.errors : 0) + n.errors + g.errors + (b ? b.errors : 0)} |`);
      }
    }
    lines.push('', `claudegate RSS after the load phase: ${f2(load.gateway_rss_after_load_kib / 1024)} MiB.`);
    lines.push('', 'ceiling = wrk straight to the fake upstream over plain HTTP (no proxy); "added" = the proxy\'s median p50/p99 minus the ceiling\'s at the same concurrency.', '');
  }
  if (mem) lines.push(...memoryRows(mem, `claudegate (${mem.binary})`));
  if (memBefore) lines.push(...memoryRows(memBefore, `before (${memBefore.binary})`));
  if (mem || memBefore) lines.push('RSS = VmRSS from /proc/<pid>/status.', '');
  if (profile) {
    lines.push('Profiles (perf, cpu-clock): ' + Object.values(profile).join(', '), '');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
let CERTS;
async function main() {
  if (!fs.existsSync(opts.binary)) throw new Error(`no gateway binary at ${opts.binary}`);
  const ports = {};
  if (opts.baseline && !fs.existsSync(opts.baseline)) throw new Error(`no baseline binary at ${opts.baseline}`);
  for (const k of ['upTls', 'upPlain', 'upSlow', 'proxy', 'gateway', 'before', 'memGateway']) ports[k] = await freePort();
  CERTS = makeCerts();
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || '?';
  const machine = `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, load avg at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`;
  log(`work dir ${WORK}; results in ${opts.out}`);

  const procs = {};
  procs.upstream = await startNginx(upstreamConf(ports, CERTS), ports.upTls);
  await waitListening(ports.upSlow, procs.upstream);
  await waitListening(ports.upPlain, procs.upstream);
  let load = null;
  let mem = null;
  let profile = null;
  if (opts.load) {
    procs.proxy = await startNginx(proxyConf(ports, CERTS), ports.proxy);
    const g = await startGateway('gateway-load', { port: ports.gateway, upstreamPort: ports.upTls, config: gatewayConfig('load') });
    procs.gateway = g.child;
    if (opts.baseline) {
      const b = await startGateway('gateway-before', { port: ports.before, upstreamPort: ports.upTls, config: gatewayConfig('load'), binary: opts.baseline });
      procs.before = b.child;
    }
    load = await loadPhase(ports, procs);
    load.gateway_rss_after_load_kib = rssKiB(procs.gateway.pid);
    await stop(procs.gateway);
    if (procs.before) await stop(procs.before);
    await stop(procs.proxy);
  }
  let memBefore = null;
  if (opts.memory) {
    mem = await memoryPhase(ports);
    // The baseline's memory: the same stream counts, without the (slow) sequential batches.
    if (opts.baseline) memBefore = await memoryPhase(ports, opts.baseline, opts.streams, 0);
  }
  if (opts.profile) profile = await profilePhase(ports);
  if (opts.callgrind) profile = { ...(profile || {}), ...(await callgrindPhase(ports)) };
  await stop(procs.upstream);

  const text = report(load, mem, memBefore, profile, machine);
  fs.writeFileSync(path.join(opts.out, 'results.json'), JSON.stringify({ opts, machine, load, mem, memBefore, profile }, null, 2));
  fs.writeFileSync(path.join(opts.out, 'results.md'), text);
  console.log(text);
  log(`results: ${opts.out}/results.md and results.json`);
}

main().then(async () => { await stopAll(); fs.rmSync(WORK, { recursive: true, force: true }); },
  async (e) => { console.error(e.stack || e); await stopAll(); console.error(`[bench] logs kept in ${WORK}`); process.exit(1); });
