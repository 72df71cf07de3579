// A fake Anthropic Messages API (plain http on 127.0.0.1) that implements prompt caching the way
// docs/prompt-caching.md describes Anthropic's rules, and bills every request in `usage`:
//
// - The prompt is a list of blocks in Anthropic's order: each tool, each system block, each
//   message content block (a string is one text block). A prefix is identified by a hash chain
//   over the blocks with their `cache_control` removed (markers are not part of the prompt).
// - Breakpoints: every block with `cache_control` (at most 4, else 400), plus the last cacheable
//   block when the request has a top-level `cache_control` (Anthropic's automatic mode).
//   Thinking blocks and empty text blocks with `cache_control` are a 400; so is a 1-hour marker
//   after a 5-minute one.
// - Read: for each breakpoint, the cache is checked at the breakpoint and at up to 20 blocks
//   before it (the lookback); the longest live prefix found is read (cache_read_input_tokens).
// - Write: every breakpoint beyond what was read whose prefix reaches the model's minimum
//   cacheable length becomes an entry; the tokens between the read prefix and the last such
//   breakpoint are cache_creation_input_tokens (split by TTL in usage.cache_creation).
// - Everything else is input_tokens. A read or write (re)sets an entry's expiry to now + TTL.
// - Tokens are estimated as ceil(characters / 4) of each block's canonical JSON.
//
// Time is virtual (`clock.now`, in ms) so a 40-turn session with think time runs in seconds.
import crypto from 'node:crypto';
import http from 'node:http';

export const LOOKBACK_BLOCKS = 20;
const TTL_MS = { '5m': 5 * 60 * 1000, '1h': 60 * 60 * 1000 };
// Minimum cacheable prompt length by model family (docs/prompt-caching.md; the fake assumes
// 1,024 for Sonnet and the conservative 4,096 for Opus and Haiku).
function minimumTokens(model) {
  if (/haiku|opus/.test(model)) return 4096;
  return 1024;
}

const tokens = (text) => Math.ceil(text.length / 4);

// JSON with sorted keys and without cache_control, at any depth of a block.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => k !== 'cache_control').sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

class BadRequest extends Error {}

function flatten(body) {
  const blocks = [];
  for (const tool of body.tools ?? []) blocks.push({ key: `tool ${canonical(tool)}`, block: tool, kind: 'tool' });
  const system = typeof body.system === 'string' ? [{ type: 'text', text: body.system }] : body.system ?? [];
  for (const block of system) blocks.push({ key: `system ${canonical(block)}`, block, kind: 'system' });
  (body.messages ?? []).forEach((message, i) => {
    const content = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content ?? [];
    for (const block of content) {
      blocks.push({ key: `message ${i} ${message.role} ${canonical(block)}`, block, kind: 'message' });
    }
  });
  return blocks;
}

const cacheable = (b) => b.kind === 'tool' || (b.block.type !== 'thinking' && b.block.type !== 'redacted_thinking' && !(b.block.type === 'text' && !String(b.block.text ?? '').trim()));

export class CachingModel {
  constructor(clock) {
    this.clock = clock;
    this.entries = new Map();  // prefix hash -> { expires, ttl }
    this.totals = { requests: 0, input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, ephemeral_5m: 0, ephemeral_1h: 0 };
    this.perRequest = [];
  }

  // Returns the usage object for one request, or throws BadRequest.
  bill(body) {
    const blocks = flatten(body);
    let hash = crypto.createHash('sha256').update(String(body.model)).digest('hex');
    let cumulative = 0;
    for (const b of blocks) {
      hash = crypto.createHash('sha256').update(hash).update(b.key).digest('hex');
      cumulative += tokens(b.key);
      b.hash = hash;
      b.cumulative = cumulative;
    }
    const breakpoints = [];
    blocks.forEach((b, i) => {
      const cc = b.block?.cache_control;
      if (!cc) return;
      if (!cacheable(b)) throw new BadRequest(`cache_control cannot be set on ${b.block.type || 'empty text'} blocks`);
      breakpoints.push({ index: i, ttl: cc.ttl ?? '5m' });
    });
    if (body.cache_control) {
      let last = blocks.length - 1;
      while (last >= 0 && !cacheable(blocks[last])) last -= 1;
      if (last >= 0 && !breakpoints.some((bp) => bp.index === last)) breakpoints.push({ index: last, ttl: body.cache_control.ttl ?? '5m' });
    }
    if (breakpoints.length > 4) throw new BadRequest(`A maximum of 4 blocks with cache_control may be provided. Found ${breakpoints.length}.`);
    breakpoints.sort((a, b) => a.index - b.index);
    let seenShort = false;
    for (const bp of breakpoints) {
      if (bp.ttl === '5m') seenShort = true;
      else if (seenShort) throw new BadRequest('a 1h cache_control breakpoint must come before 5m ones');
    }

    const now = this.clock.now;
    const alive = (h) => { const e = this.entries.get(h); return e && e.expires > now ? e : null; };
    let best = -1;
    for (const bp of breakpoints) {
      for (let j = bp.index; j >= Math.max(0, bp.index - LOOKBACK_BLOCKS); j -= 1) {
        if (alive(blocks[j].hash)) { best = Math.max(best, j); break; }
      }
    }
    const read = best >= 0 ? blocks[best].cumulative : 0;
    if (best >= 0) {
      const e = this.entries.get(blocks[best].hash);
      e.expires = now + TTL_MS[e.ttl];
    }
    const minimum = minimumTokens(String(body.model));
    let written = read;
    const creation = { '5m': 0, '1h': 0 };
    for (const bp of breakpoints) {
      const b = blocks[bp.index];
      if (b.cumulative < minimum) continue;
      const existing = this.entries.get(b.hash);
      const ttl = existing && existing.expires > now && TTL_MS[existing.ttl] > TTL_MS[bp.ttl] ? existing.ttl : bp.ttl;
      this.entries.set(b.hash, { expires: now + TTL_MS[ttl], ttl });
      if (bp.index > best && b.cumulative > written) {
        creation[bp.ttl] += b.cumulative - written;
        written = b.cumulative;
      }
    }
    const total = blocks.length ? blocks[blocks.length - 1].cumulative : 0;
    const usage = {
      input_tokens: total - written,
      cache_creation_input_tokens: creation['5m'] + creation['1h'],
      cache_read_input_tokens: read,
      cache_creation: { ephemeral_5m_input_tokens: creation['5m'], ephemeral_1h_input_tokens: creation['1h'] },
      output_tokens: 1,
    };
    const t = this.totals;
    t.requests += 1;
    t.input_tokens += usage.input_tokens;
    t.cache_creation_input_tokens += usage.cache_creation_input_tokens;
    t.cache_read_input_tokens += usage.cache_read_input_tokens;
    t.ephemeral_5m += creation['5m'];
    t.ephemeral_1h += creation['1h'];
    this.perRequest.push({ blocks: blocks.length, breakpoints: breakpoints.map((bp) => bp.index), ...usage });
    return usage;
  }
}

function sse(usage, model) {
  const events = [
    ['message_start', { type: 'message_start', message: { id: 'msg_bench_cache', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 1 } }],
    ['message_stop', { type: 'message_stop' }],
  ];
  return events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join('');
}

// Starts the fake on 127.0.0.1:`port` (0 = any). Resolves to { server, port, model, bodies }.
export async function startFakeAnthropic({ port = 0, clock }) {
  const model = new CachingModel(clock);
  const bodies = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url.startsWith('/v1/messages')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"type":"error","error":{"type":"not_found_error","message":"not found"}}');
        return;
      }
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        bodies.push(body);
        const usage = model.bill(body);
        if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse(usage, body.model));
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'msg_bench_cache', type: 'message', role: 'assistant', model: body.model, content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', stop_sequence: null, usage }));
        }
      } catch (e) {
        const message = e instanceof BadRequest ? e.message : `bad request: ${e.message}`;
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message } }));
      }
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port: server.address().port, model, bodies };
}
