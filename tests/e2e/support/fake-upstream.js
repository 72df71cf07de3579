// A scripted stand-in for api.anthropic.com: an HTTPS server on 127.0.0.1:<ephemeral> that records
// every request and answers through a per-test handler. Helpers build Anthropic's exact SSE wire
// format (docs/anthropic-notes.md#stream-grammar) and Anthropic error bodies (#error-mapping).
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { withTimeout } from './util.js';

const DEFAULT_MODEL = 'claude-sonnet-5-5';

// ---------------------------------------------------------------------------------------------
// Wire-format builders
// ---------------------------------------------------------------------------------------------

export function newMessageId() {
  return `msg_e2e${randomBytes(10).toString('hex')}`;
}

export function newToolUseId() {
  return `toolu_e2e${randomBytes(10).toString('hex')}`;
}

/** One SSE frame exactly as Anthropic writes it: `event: NAME\ndata: JSON\n\n`. */
export function sseFrame(event, data) {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Splits a string into pieces of about `size` characters (never empty, at least one piece). */
export function split(text, size = 7) {
  if (text.length === 0) return [''];
  const pieces = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

/**
 * A full successful Anthropic stream for the given content blocks.
 * blocks: {type:'text', text, chunks?} | {type:'thinking', thinking, signature, chunks?}
 *       | {type:'tool_use', id?, name, input, chunks?}   (chunks: the partial_json pieces)
 * @returns {{event: string, data: object}[]}
 */
export function transcript({
  blocks,
  model = DEFAULT_MODEL,
  id = newMessageId(),
  usage = {},
  stopReason = 'end_turn',
  ping = true,
} = {}) {
  const inputUsage = {
    input_tokens: usage.input_tokens ?? 10,
    cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
    output_tokens: 1,
  };
  const events = [];
  const push = (event, data) => events.push({ event, data: { type: event, ...data } });
  push('message_start', {
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: inputUsage,
    },
  });
  if (ping) push('ping', {});
  blocks.forEach((block, index) => {
    switch (block.type) {
      case 'text': {
        push('content_block_start', { index, content_block: { type: 'text', text: '' } });
        for (const piece of block.chunks ?? split(block.text)) {
          push('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
        }
        break;
      }
      case 'thinking': {
        push('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } });
        for (const piece of block.chunks ?? split(block.thinking)) {
          push('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } });
        }
        push('content_block_delta', { index, delta: { type: 'signature_delta', signature: block.signature } });
        break;
      }
      case 'tool_use': {
        push('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: block.id ?? newToolUseId(), name: block.name, input: {} },
        });
        const json = JSON.stringify(block.input);
        for (const piece of block.chunks ?? split(json, 5)) {
          push('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
        }
        break;
      }
      default:
        throw new Error(`transcript: unknown block type ${block.type}`);
    }
    push('content_block_stop', { index });
  });
  push('message_delta', {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens ?? 5 },
  });
  push('message_stop', {});
  return events;
}

/** A plain text answer. `text` is split into several text_delta events unless `chunks` is given. */
export function textStream({ text, chunks, ...rest }) {
  return transcript({ blocks: [{ type: 'text', text: text ?? chunks.join(''), chunks }], ...rest });
}

/** Optional leading text, then one tool_use block per call with input_json_delta fragments. */
export function toolUseStream({ text, tools, ...rest }) {
  const blocks = [];
  if (text) blocks.push({ type: 'text', text });
  for (const tool of tools) blocks.push({ type: 'tool_use', ...tool });
  return transcript({ blocks, stopReason: 'tool_use', ...rest });
}

/** A thinking block (with its signature) followed by a text block. */
export function thinkingStream({ thinking, signature = `sig_${randomBytes(16).toString('base64')}`, text, ...rest }) {
  return transcript({
    blocks: [
      { type: 'thinking', thinking, signature },
      { type: 'text', text },
    ],
    ...rest,
  });
}

/** The in-stream `event: error` Anthropic sends after a 200. */
export function errorEvent(type, message) {
  return {
    event: 'error',
    data: { type: 'error', error: { type, message }, request_id: `req_e2e${randomBytes(8).toString('hex')}` },
  };
}

/** Anthropic's error body: {"type":"error","error":{"type","message"},"request_id"}. */
export function anthropicErrorBody(type, message, extra = {}) {
  return {
    type: 'error',
    error: { type, message, ...(extra.details ? { details: extra.details } : {}) },
    request_id: extra.requestId ?? `req_e2e${randomBytes(8).toString('hex')}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Response helpers (use inside a handler)
// ---------------------------------------------------------------------------------------------

export function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * An Anthropic error answer: status + error body, plus e.g. retry-after / request-id headers.
 * Like Anthropic (and most servers), the head and the small body leave in a single write.
 */
export function sendError(res, status, type, message, headers = {}) {
  const requestId = headers['request-id'] ?? `req_e2e${randomBytes(8).toString('hex')}`;
  sendJson(res, status, anthropicErrorBody(type, message, { requestId }), { 'request-id': requestId, ...headers });
}

/** Writes the 200 SSE head; with flush false, Node sends it together with the first write. */
export function writeSseHead(res, headers = {}, { flush = true } = {}) {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': `req_e2e${randomBytes(8).toString('hex')}`,
    ...headers,
  });
  if (flush) res.flushHeaders();
}

export function writeEvent(res, { event, data }) {
  return res.write(sseFrame(event, data));
}

/**
 * Streams `events` as SSE. Options: headers, delayMs between events (simulates a slow upstream),
 * end (default true; false leaves the response open — a stalled stream), coalesce (the head and
 * all events leave in a single write, i.e. usually one TLS record, as a buffering server sends them).
 */
export async function sendSse(res, events, { headers = {}, delayMs = 0, end = true, coalesce = false } = {}) {
  if (coalesce) {
    writeSseHead(res, headers, { flush: false });
    const text = events.map(({ event, data }) => sseFrame(event, data)).join('');
    if (end) res.end(text);
    else res.write(text);
    return;
  }
  writeSseHead(res, headers);
  for (const ev of events) {
    if (res.destroyed) return;
    writeEvent(res, ev);
    if (delayMs > 0) await delay(delayMs);
  }
  if (end && !res.destroyed) res.end();
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {object} RecordedRequest
 * @property {string} method
 * @property {string} url
 * @property {Record<string, string|string[]>} headers  lower-cased names (Node's req.headers)
 * @property {string[]} rawHeaders
 * @property {string} rawBody
 * @property {any} body          parsed JSON, or undefined when the body is not JSON
 * @property {Promise<{afterMs: number}>} clientClosed  resolves only if the client (the daemon)
 *           closes the connection before the response was completely written
 * @property {Promise<void>} finished  resolves when the response was completely written
 */

export class FakeUpstream {
  /** @type {RecordedRequest[]} */
  requests = [];
  handlerErrors = [];
  #server;
  #handler = null;
  #waiters = [];
  #sockets = new Set();
  #openResponses = new Set();

  static async start({ key, cert }) {
    const fake = new FakeUpstream();
    await fake.#listen({ key, cert });
    return fake;
  }

  async #listen({ key, cert }) {
    this.#server = https.createServer({ key, cert }, (req, res) => this.#onRequest(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('tlsClientError', (err) => {
      this.handlerErrors.push(new Error(`TLS client error: ${err.message}`));
    });
    await new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  get port() {
    return this.#server.address().port;
  }

  get baseUrl() {
    return `https://127.0.0.1:${this.port}`;
  }

  /** Scripts the answers: handler(record, res) — may be async. */
  handle(handler) {
    this.#handler = handler;
  }

  /** Forgets recorded requests and the handler; ends any response a test left open. */
  reset() {
    this.requests = [];
    this.handlerErrors = [];
    this.#handler = null;
    this.#waiters = [];
    this.releaseOpenResponses();
  }

  /** Destroys responses still being written (stalled streams), so nothing waits on them. */
  releaseOpenResponses() {
    for (const res of this.#openResponses) res.destroy();
    this.#openResponses.clear();
  }

  get lastRequest() {
    return this.requests.at(-1);
  }

  /** Resolves with the n-th request (0-based) once it has arrived, bounded by timeoutMs. */
  waitForRequest(n = 0, timeoutMs = 5000) {
    if (this.requests.length > n) return Promise.resolve(this.requests[n]);
    const promise = new Promise((resolve) => this.#waiters.push({ n, resolve }));
    return withTimeout(promise, timeoutMs, `fake upstream: request #${n} did not arrive`);
  }

  #onRequest(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body;
      try {
        body = rawBody.length ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      const started = Date.now();
      let resolveClosed;
      let resolveFinished;
      const record = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        rawBody,
        body,
        clientClosed: new Promise((r) => (resolveClosed = r)),
        finished: new Promise((r) => (resolveFinished = r)),
      };
      this.#openResponses.add(res);
      res.on('finish', () => {
        this.#openResponses.delete(res);
        resolveFinished();
      });
      res.on('close', () => {
        this.#openResponses.delete(res);
        if (!res.writableFinished) resolveClosed({ afterMs: Date.now() - started });
      });
      this.requests.push(record);
      const index = this.requests.length - 1;
      this.#waiters = this.#waiters.filter((w) => {
        if (w.n === index) {
          w.resolve(record);
          return false;
        }
        return true;
      });
      this.#dispatch(record, res);
    });
  }

  async #dispatch(record, res) {
    try {
      if (!this.#handler) {
        sendError(res, 500, 'api_error', `fake upstream: no handler scripted for ${record.method} ${record.url}`);
        return;
      }
      await this.#handler(record, res);
    } catch (err) {
      this.handlerErrors.push(err);
      if (!res.headersSent) sendError(res, 500, 'api_error', `fake upstream handler threw: ${err.message}`);
      else res.destroy();
    }
  }

  async close() {
    this.releaseOpenResponses();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
