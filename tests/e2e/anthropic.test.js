// End-to-end: the official Anthropic TypeScript SDK (both published lines) → claudegate's
// /v1/messages relay (the real binary) → a fake Anthropic upstream over verified TLS.
//
// The SDK's own outgoing requests are captured through its `fetch` option, so each test can check
// that what reached the upstream is byte-for-byte what the SDK sent (apart from the model alias the
// gateway resolves in place), with the credential swapped and the master key gone.
//
// The two lines authenticate differently: 0.x sends `x-api-key` + `anthropic-version: 2023-06-01`,
// 1.x sends `Authorization: Bearer` + a newer `anthropic-version`. Both must work unchanged.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as sdk0 from 'anthropic-sdk-0';
import * as sdk1 from '@anthropic-ai/sdk';

import { startStack, stopStack } from './support/stack.js';
import {
  anthropicErrorBody,
  errorEvent,
  newMessageId,
  newToolUseId,
  sendError,
  sendJson,
  sendSse,
  sseFrame,
  textStream,
  toolUseStream,
  transcript,
} from './support/fake-upstream.js';

const TEST_TIMEOUT = { timeout: 30_000 };

// Distinctive secrets, so a leak anywhere (upstream headers, bodies) is unambiguous.
const MASTER_KEY_SECRET = randomBytes(24).toString('hex');
const OAUTH_TOKEN_SECRET = randomBytes(24).toString('hex');
const MASTER_KEY = `sk-e2e-${MASTER_KEY_SECRET}`;
const OAUTH_TOKEN = `sk-ant-oat01-e2e-${OAUTH_TOKEN_SECRET}`;

const ALIASES = {
  sonnet: 'claude-sonnet-5-5',
  opus: 'claude-opus-5-5',
  haiku: 'claude-haiku-5-5',
};

function installedVersion(dir) {
  return JSON.parse(readFileSync(new URL(`./node_modules/${dir}/package.json`, import.meta.url), 'utf8')).version;
}

const LINES = [
  {
    line: '0.x',
    sdk: sdk0,
    version: installedVersion('anthropic-sdk-0'),
    // How this line presents the key it was given.
    auth: 'x-api-key',
    // The class a 529 becomes: 0.x has no dedicated class, any status >= 500 is InternalServerError.
    overloadedClass: sdk0.InternalServerError,
  },
  {
    line: '1.x',
    sdk: sdk1,
    version: installedVersion('@anthropic-ai/sdk'),
    auth: 'bearer',
    overloadedClass: sdk1.OverloadedError ?? sdk1.InternalServerError,
  },
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** A fetch that records what the SDK actually puts on the wire, then sends it with Node's fetch. */
function recordingFetch(sent) {
  return async (url, init = {}) => {
    let body;
    if (typeof init.body === 'string') body = init.body;
    else if (init.body instanceof Uint8Array || init.body instanceof ArrayBuffer) body = Buffer.from(init.body).toString('utf8');
    else if (init.body != null) throw new Error(`recordingFetch: unexpected body type ${init.body?.constructor?.name}`);
    sent.push({ url: new URL(String(url)), method: init.method ?? 'GET', headers: new Headers(init.headers), body });
    return fetch(url, init);
  };
}

/** The bytes the upstream must receive for an SDK body: only the model alias is replaced, in place. */
function expectedUpstreamBody(sdkBody, alias) {
  const from = `"model":${JSON.stringify(alias)}`;
  assert.equal(sdkBody.split(from).length, 2, `SDK body should contain ${from} exactly once: ${sdkBody}`);
  return sdkBody.replace(from, `"model":${JSON.stringify(ALIASES[alias] ?? alias)}`);
}

/** A non-streamed Messages API answer. */
function messageJson({ content, model = ALIASES.sonnet, stopReason = 'end_turn', usage = {} }) {
  return {
    id: newMessageId(),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: usage.input_tokens ?? 11,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: usage.output_tokens ?? 6,
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

/** Asserts `promise` rejects with an instance of `cls`; returns the error for further checks. */
async function expectError(promise, cls) {
  try {
    await promise;
  } catch (err) {
    assert.ok(
      err instanceof cls,
      `expected ${cls.name}, got ${err?.constructor?.name}: status=${err?.status} message=${err?.message}`,
    );
    return err;
  }
  assert.fail(`expected ${cls.name}, but the call succeeded`);
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

describe('claudegate /v1/messages via @anthropic-ai/sdk', () => {
  let certs;
  let fake;
  let daemon;

  before(async () => {
    ({ certs, fake, daemon } = await startStack({ masterKey: MASTER_KEY, oauthToken: OAUTH_TOKEN }));
  });

  after(async () => {
    await stopStack({ certs, fake, daemon });
  });

  beforeEach(() => {
    fake.reset();
  });

  // Whatever a test did, every upstream call carried the OAuth token and never the master key,
  // and none of the SDK's own headers (x-stainless-*, user-agent) went upstream.
  afterEach(() => {
    for (const rec of fake.requests) {
      assert.ok(!allHeaderText(rec).includes(MASTER_KEY_SECRET), `master key in upstream headers of ${rec.url}`);
      assert.ok(!rec.rawBody.includes(MASTER_KEY_SECRET), `master key in upstream body of ${rec.url}`);
      assert.equal(rec.headers.authorization, `Bearer ${OAUTH_TOKEN}`, `upstream credential of ${rec.url}`);
      assert.equal(rec.headers['x-api-key'], undefined, `x-api-key sent upstream on ${rec.url}`);
      assert.ok(betas(rec).includes('oauth-2025-04-20'), `anthropic-beta upstream: ${rec.headers['anthropic-beta']}`);
      const stainless = Object.keys(rec.headers).filter((h) => h.startsWith('x-stainless'));
      assert.deepEqual(stainless, [], `SDK fingerprint headers relayed upstream on ${rec.url}`);
      assert.match(String(rec.headers['user-agent']), /^claudegate\//, 'upstream User-Agent names the gateway');
    }
    assert.deepEqual(fake.handlerErrors.map(String), [], 'fake upstream handler/TLS errors');
  });

  for (const { line, sdk, version, auth, overloadedClass } of LINES) {
    describe(`@anthropic-ai/sdk ${version} (${line} line)`, () => {
      /** Every request this line's client put on the wire. */
      let sent;
      let client;

      before(() => {
        sent = [];
        client = new sdk.default({
          baseURL: daemon.baseUrl,
          apiKey: MASTER_KEY,
          maxRetries: 0,
          timeout: 20_000,
          fetch: recordingFetch(sent),
        });
      });

      beforeEach(() => {
        sent.length = 0;
      });

      /** The one request the SDK sent during this test (asserts there was exactly one to `path`). */
      function lastSent(path) {
        const matching = sent.filter((s) => s.url.pathname === path);
        assert.ok(matching.length >= 1, `the SDK sent no request to ${path}; sent: ${sent.map((s) => s.url.href)}`);
        return matching.at(-1);
      }

      /** The relay contract for one SDK request / one upstream request pair. */
      function assertRelayed(sdkReq, rec, alias) {
        assert.equal(rec.method, sdkReq.method);
        assert.equal(rec.url, sdkReq.url.pathname + sdkReq.url.search, 'path and query string kept');
        assert.equal(rec.rawBody, expectedUpstreamBody(sdkReq.body, alias), 'body relayed byte-for-byte (alias resolved)');
        assert.equal(rec.headers['anthropic-version'], sdkReq.headers.get('anthropic-version'), 'anthropic-version as sent');
        assert.match(String(rec.headers['content-type']), /^application\/json/);
        // The SDK line authenticated the way it is documented to.
        if (auth === 'x-api-key') {
          assert.equal(sdkReq.headers.get('x-api-key'), MASTER_KEY);
          assert.equal(sdkReq.headers.get('authorization'), null);
        } else {
          assert.equal(sdkReq.headers.get('authorization'), `Bearer ${MASTER_KEY}`);
          assert.equal(sdkReq.headers.get('x-api-key'), null);
        }
      }

      test('the SDK line sends its documented anthropic-version', TEST_TIMEOUT, async () => {
        fake.handle((rec, res) => sendJson(res, 200, messageJson({ content: [{ type: 'text', text: 'ok' }] })));
        await client.messages.create({ model: 'sonnet', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
        const v = lastSent('/v1/messages').headers.get('anthropic-version');
        if (line === '0.x') assert.equal(v, '2023-06-01');
        else {
          assert.match(v, /^\d{4}-\d{2}-\d{2}$/);
          assert.ok(v > '2023-06-01', `1.x should send a newer anthropic-version, got ${v}`);
        }
        assert.equal((await fake.waitForRequest(0)).headers['anthropic-version'], v);
      });

      test('models.list and models.retrieve: Anthropic list shape, served by the gateway', TEST_TIMEOUT, async () => {
        const ids = [];
        for await (const model of client.models.list()) {
          assert.equal(model.type, 'model');
          assert.equal(typeof model.id, 'string');
          assert.equal(typeof model.display_name, 'string');
          assert.ok(!Number.isNaN(Date.parse(model.created_at)), `created_at: ${model.created_at}`);
          ids.push(model.id);
        }
        for (const alias of Object.keys(ALIASES)) {
          assert.ok(ids.includes(alias), `models.list should include ${alias}; got ${JSON.stringify(ids)}`);
        }
        const one = await client.models.retrieve('sonnet');
        assert.equal(one.type, 'model');
        assert.equal(one.id, 'sonnet');
        assert.equal(fake.requests.length, 0, 'the model list is local');
      });

      test('non-stream messages.create: answer relayed unchanged; upstream request as the SDK sent it', TEST_TIMEOUT, async () => {
        const answer = messageJson({
          content: [{ type: 'text', text: 'Bonjour — from the fake upstream ✓' }],
          usage: { input_tokens: 21, output_tokens: 9 },
        });
        const upstreamRequestId = `req_e2e${randomBytes(8).toString('hex')}`;
        fake.handle((rec, res) => sendJson(res, 200, answer, { 'request-id': upstreamRequestId }));

        const { data: message, request_id: requestId } = await client.messages
          .create({
            model: 'sonnet',
            max_tokens: 128,
            system: 'You are terse. Ünïcödé, emoji 🚀, and a line separator \u2028 survive.',
            temperature: 0.25,
            metadata: { user_id: 'e2e-user' },
            stop_sequences: ['\n\nHuman:'],
            messages: [
              { role: 'user', content: 'Say bonjour.' },
              { role: 'assistant', content: [{ type: 'text', text: 'Sure.' }] },
              { role: 'user', content: [{ type: 'text', text: 'Now, please.' }] },
            ],
          })
          .withResponse();

        // What the SDK returned is the upstream's JSON, unchanged.
        assert.deepEqual(JSON.parse(JSON.stringify(message)), answer);
        assert.equal(requestId, upstreamRequestId, 'request-id header relayed');

        assert.equal(fake.requests.length, 1);
        const rec = fake.lastRequest;
        assertRelayed(lastSent('/v1/messages'), rec, 'sonnet');
        assert.equal(rec.url, '/v1/messages');
        assert.equal(rec.body.model, 'claude-sonnet-5-5');
        assert.deepEqual(betas(rec), ['oauth-2025-04-20'], 'no client betas: only the OAuth beta');
      });

      test('messages.stream: text assembled from the relayed SSE; client betas merged', TEST_TIMEOUT, async () => {
        const text = 'Streaming hello through claudegate, piece by piece.';
        fake.handle((rec, res) => sendSse(res, textStream({ text, usage: { input_tokens: 7, output_tokens: 12 } }), { delayMs: 2 }));

        const stream = client.messages.stream(
          {
            model: 'opus',
            max_tokens: 256,
            messages: [{ role: 'user', content: 'Stream something.' }],
          },
          { headers: { 'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14' } },
        );
        const pieces = [];
        stream.on('text', (delta) => pieces.push(delta));
        const final = await stream.finalMessage();

        assert.ok(pieces.length > 1, `expected several text deltas, got ${pieces.length}`);
        assert.equal(pieces.join(''), text);
        assert.equal(final.content[0].type, 'text');
        assert.equal(final.content[0].text, text);
        assert.equal(final.stop_reason, 'end_turn');
        assert.equal(final.usage.output_tokens, 12);

        const rec = fake.lastRequest;
        const sdkReq = lastSent('/v1/messages');
        assertRelayed(sdkReq, rec, 'opus');
        assert.equal(rec.body.stream, true);
        assert.equal(rec.body.model, 'claude-opus-5-5');
        const merged = betas(rec);
        assert.ok(merged.includes('fine-grained-tool-streaming-2025-05-14'), `client beta lost: ${merged}`);
        assert.ok(merged.includes('oauth-2025-04-20'));
      });

      test('create({stream:true}): every SSE event relayed, byte-for-byte and in order', TEST_TIMEOUT, async () => {
        const events = textStream({ text: 'Event-for-event relay.', model: ALIASES.haiku });
        fake.handle((rec, res) => sendSse(res, events));
        const params = { model: 'haiku', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'go' }] };

        // Through the SDK's event iterator (which, by design, does not surface `ping`).
        const stream = await client.messages.create(params);
        const got = [];
        for await (const ev of stream) got.push(JSON.parse(JSON.stringify(ev)));
        assert.deepEqual(got, events.filter((e) => e.event !== 'ping').map((e) => e.data));
        assertRelayed(lastSent('/v1/messages'), fake.lastRequest, 'haiku');

        // The raw response the SDK received: exactly the upstream's SSE bytes, ping included.
        const response = await client.messages.create(params).asResponse();
        assert.equal(response.status, 200);
        assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
        assert.equal(await response.text(), events.map(({ event, data }) => sseFrame(event, data)).join(''));
        assertRelayed(lastSent('/v1/messages'), fake.lastRequest, 'haiku');
      });

      test('tool use: tool_use block with input, then tool_result relayed intact', TEST_TIMEOUT, async () => {
        const toolId = newToolUseId();
        const input = { city: 'Zürich', unit: 'celsius', days: [1, 2, 3], nested: { deep: true, none: null } };
        const tools = [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            input_schema: {
              type: 'object',
              properties: {
                city: { type: 'string' },
                unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
                days: { type: 'array', items: { type: 'integer' } },
                nested: { type: 'object' },
              },
              required: ['city'],
            },
          },
        ];
        let turn = 0;
        fake.handle((rec, res) => {
          turn += 1;
          if (turn === 1) {
            return sendSse(res, toolUseStream({ text: 'Let me check.', tools: [{ id: toolId, name: 'get_weather', input }] }));
          }
          return sendJson(res, 200, messageJson({ content: [{ type: 'text', text: 'It is 21 °C in Zürich.' }] }));
        });

        // Turn 1, streamed: the SDK assembles the tool input from input_json_delta fragments.
        const question = { role: 'user', content: 'Weather in Zürich?' };
        const first = await client.messages
          .stream({ model: 'sonnet', max_tokens: 256, tools, tool_choice: { type: 'auto' }, messages: [question] })
          .finalMessage();
        assert.equal(first.stop_reason, 'tool_use');
        const toolUse = first.content.find((b) => b.type === 'tool_use');
        assert.ok(toolUse, `no tool_use block in ${JSON.stringify(first.content)}`);
        assert.equal(toolUse.id, toolId);
        assert.equal(toolUse.name, 'get_weather');
        assert.deepEqual(toolUse.input, input);
        assertRelayed(lastSent('/v1/messages'), fake.requests[0], 'sonnet');
        assert.deepEqual(fake.requests[0].body.tools, tools);

        // Turn 2: the assistant's tool_use goes back with the tool_result.
        const toolResult = {
          type: 'tool_result',
          tool_use_id: toolId,
          content: [{ type: 'text', text: '{"temp_c":21,"sky":"clear"}' }],
          is_error: false,
        };
        const second = await client.messages.create({
          model: 'sonnet',
          max_tokens: 256,
          tools,
          messages: [
            question,
            { role: 'assistant', content: first.content },
            { role: 'user', content: [toolResult] },
          ],
        });
        assert.equal(second.content[0].text, 'It is 21 °C in Zürich.');

        assert.equal(fake.requests.length, 2);
        const rec = fake.requests[1];
        assertRelayed(lastSent('/v1/messages'), rec, 'sonnet');
        const assistantBlocks = rec.body.messages[1].content;
        const relayedToolUse = assistantBlocks.find((b) => b.type === 'tool_use');
        assert.equal(relayedToolUse.id, toolId);
        assert.deepEqual(relayedToolUse.input, input);
        assert.deepEqual(rec.body.messages[2].content, [toolResult]);
      });

      test('count_tokens, and beta count_tokens with the client\'s betas merged', TEST_TIMEOUT, async () => {
        let calls = 0;
        fake.handle((rec, res) => sendJson(res, 200, { input_tokens: ++calls === 1 ? 1234 : 77 }));
        const messages = [{ role: 'user', content: 'How many tokens is this?' }];

        const counted = await client.messages.countTokens({ model: 'haiku', system: 'Count me too.', messages });
        assert.equal(counted.input_tokens, 1234);
        const rec = fake.requests[0];
        assert.equal(rec.url, '/v1/messages/count_tokens');
        assertRelayed(lastSent('/v1/messages/count_tokens'), rec, 'haiku');
        assert.equal(rec.body.model, 'claude-haiku-5-5');

        const betaCounted = await client.beta.messages.countTokens({
          model: 'opus',
          messages,
          betas: ['files-api-2025-04-14'],
        });
        assert.equal(betaCounted.input_tokens, 77);
        const betaRec = fake.requests[1];
        const sdkReq = lastSent('/v1/messages/count_tokens');
        // 0.x puts beta calls on ?beta=true; 1.x does not. Either way the query string is kept.
        if (line === '0.x') assert.equal(sdkReq.url.search, '?beta=true');
        assert.equal(betaRec.url, `/v1/messages/count_tokens${sdkReq.url.search}`, 'query string kept');
        assertRelayed(sdkReq, betaRec, 'opus');
        const merged = betas(betaRec);
        assert.ok(merged.includes('files-api-2025-04-14'), `client beta lost: ${merged}`);
        assert.equal(new Set(merged).size, merged.length, `duplicate betas upstream: ${merged}`);
      });

      test('wrong key → AuthenticationError 401 from the gateway (Anthropic error shape), nothing upstream', TEST_TIMEOUT, async () => {
        fake.handle((rec, res) => sendJson(res, 200, messageJson({ content: [{ type: 'text', text: 'must not happen' }] })));
        const wrong = new sdk.default({
          baseURL: daemon.baseUrl,
          apiKey: `sk-wrong-${randomBytes(8).toString('hex')}`,
          maxRetries: 0,
          timeout: 10_000,
        });
        const err = await expectError(
          wrong.messages.create({ model: 'sonnet', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
          sdk.AuthenticationError,
        );
        assert.equal(err.status, 401);
        assert.equal(err.error?.type, 'error', `body: ${JSON.stringify(err.error)}`);
        assert.equal(err.error?.error?.type, 'authentication_error');
        assert.equal(typeof err.error?.error?.message, 'string');

        await expectError(
          wrong.messages.countTokens({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] }),
          sdk.AuthenticationError,
        );
        assert.equal(fake.requests.length, 0);
      });

      test('upstream 429 → RateLimitError with the upstream body, retry-after and request-id relayed', TEST_TIMEOUT, async () => {
        const message = `Number of requests has exceeded your rate limit (e2e ${randomBytes(4).toString('hex')})`;
        const requestId = `req_e2e${randomBytes(8).toString('hex')}`;
        let upstreamBody;
        fake.handle((rec, res) => {
          upstreamBody = anthropicErrorBody('rate_limit_error', message, { requestId });
          sendJson(res, 429, upstreamBody, {
            'request-id': requestId,
            // Beyond the gateway's retry budget (30 s): the wait is left to the client.
            'retry-after': '45',
            'anthropic-ratelimit-requests-remaining': '0',
            'anthropic-ratelimit-requests-reset': '2030-01-01T00:00:17Z',
          });
        });
        const params = { model: 'sonnet', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] };

        const err = await expectError(client.messages.create(params), sdk.RateLimitError);
        assert.equal(err.status, 429);
        assert.deepEqual(err.error, upstreamBody, 'error body relayed unchanged');
        assert.equal(err.error.error.message, message);
        assert.ok(err.message.includes(message), `SDK message should carry the upstream's: ${err.message}`);
        assert.equal(err.requestID, requestId);
        assert.equal(err.headers.get('retry-after'), '45');
        assert.equal(err.headers.get('anthropic-ratelimit-requests-remaining'), '0');
        assert.equal(err.headers.get('anthropic-ratelimit-requests-reset'), '2030-01-01T00:00:17Z');
        assert.equal(fake.requests.length, 1, 'maxRetries:0 — one attempt: the gateway retries a 429 only when its wait fits the budget');

        // The same through the streaming helper.
        const streamErr = await expectError(client.messages.stream(params).finalMessage(), sdk.RateLimitError);
        assert.equal(streamErr.status, 429);
        assert.equal(streamErr.error.error.message, message);
      });

      test('upstream 400 invalid_request_error → BadRequestError with the upstream message', TEST_TIMEOUT, async () => {
        const message = 'messages.0.content: Input should be a valid list (e2e)';
        fake.handle((rec, res) => sendError(res, 400, 'invalid_request_error', message));
        const err = await expectError(
          client.messages.create({ model: 'sonnet', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
          sdk.BadRequestError,
        );
        assert.equal(err.status, 400);
        assert.equal(err.error.type, 'error');
        assert.equal(err.error.error.type, 'invalid_request_error');
        assert.equal(err.error.error.message, message);
        assert.equal(fake.requests.length, 1);
      });

      test(`upstream 529 overloaded → status 529 relayed unchanged (${overloadedClass.name})`, TEST_TIMEOUT, async () => {
        const message = 'Overloaded (e2e)';
        let upstreamBody;
        fake.handle((rec, res) => {
          upstreamBody = anthropicErrorBody('overloaded_error', message);
          sendJson(res, 529, upstreamBody);
        });
        const err = await expectError(
          client.messages.create({ model: 'sonnet', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
          overloadedClass,
        );
        assert.ok(err instanceof sdk.InternalServerError);
        assert.ok(err instanceof sdk.APIError);
        assert.equal(err.status, 529);
        assert.deepEqual(err.error, upstreamBody);
        // The gateway retried (num_retries 2 by default), then told the SDK not to retry on top.
        assert.equal(err.headers?.get('x-should-retry'), 'false');
        assert.equal(fake.requests.length, 3);
      });

      test('in-stream error event after a 200 → APIError carrying the upstream error', TEST_TIMEOUT, async () => {
        const head = transcript({ blocks: [{ type: 'text', text: 'partial answer' }] }).slice(0, 4);
        const failure = errorEvent('overloaded_error', 'Overloaded mid-stream (e2e)');
        fake.handle((rec, res) => sendSse(res, [...head, failure]));
        const stream = client.messages.stream({ model: 'sonnet', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
        const err = await expectError(stream.finalMessage(), sdk.APIError);
        assert.deepEqual(err.error, failure.data);
      });

      test('unknown model gpt-4 → NotFoundError 404 from the gateway, nothing upstream', TEST_TIMEOUT, async () => {
        fake.handle((rec, res) => sendJson(res, 200, messageJson({ content: [{ type: 'text', text: 'must not happen' }] })));
        const err = await expectError(
          client.messages.create({ model: 'gpt-4', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
          sdk.NotFoundError,
        );
        assert.equal(err.status, 404);
        assert.equal(err.error?.type, 'error', `body: ${JSON.stringify(err.error)}`);
        assert.equal(err.error?.error?.type, 'not_found_error');
        assert.match(err.error?.error?.message ?? '', /gpt-4/);

        await expectError(
          client.messages.countTokens({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }),
          sdk.NotFoundError,
        );
        await expectError(client.models.retrieve('gpt-4'), sdk.NotFoundError);
        assert.equal(fake.requests.length, 0);
      });
    });
  }
});

// Heartbeats on /v1/messages (docs/architecture.md, "The exchange and the pump"): during a long
// upstream pause the gateway sends `: keep-alive` SSE comments between events so that proxies in
// front keep the stream open. Both SDK lines must skip them: the events they yield, and the text
// they assemble, are the upstream's alone.
describe('claudegate /v1/messages heartbeats via @anthropic-ai/sdk', () => {
  let certs;
  let fake;
  let daemon;
  let configDir;

  before(async () => {
    configDir = mkdtempSync(path.join(tmpdir(), 'claudegate-e2e-heartbeat-'));
    const configFile = path.join(configDir, 'config.yaml');
    writeFileSync(configFile, 'claudegate:\n  upstream:\n    heartbeat_interval_ms: 50\n');
    ({ certs, fake, daemon } = await startStack({
      masterKey: MASTER_KEY,
      oauthToken: OAUTH_TOKEN,
      args: ['--config', configFile],
    }));
  });

  after(async () => {
    try {
      await stopStack({ certs, fake, daemon });
    } finally {
      if (configDir) rmSync(configDir, { recursive: true, force: true });
    }
  });

  for (const { version, sdk } of LINES) {
    test(`@anthropic-ai/sdk ${version}: a stream with long pauses arrives whole, heartbeats skipped`, TEST_TIMEOUT, async () => {
      const text = 'Slow thoughts arrive.';
      const events = textStream({ text, chunks: ['Slow ', 'thoughts ', 'arrive.'] });
      fake.handle((rec, res) => sendSse(res, events, { delayMs: 250 }));
      const client = new sdk.default({ baseURL: daemon.baseUrl, apiKey: MASTER_KEY, maxRetries: 0, timeout: 20_000 });
      const params = { model: 'sonnet', max_tokens: 64, messages: [{ role: 'user', content: 'go' }] };

      const final = await client.messages.stream(params).finalMessage();
      assert.equal(final.content[0].text, text);

      const got = [];
      for await (const ev of await client.messages.create({ ...params, stream: true })) got.push(JSON.parse(JSON.stringify(ev)));
      assert.deepEqual(got, events.filter((e) => e.event !== 'ping').map((e) => e.data));

      // The raw bytes: the upstream's events with heartbeat comments between them.
      const raw = await (await client.messages.create({ ...params, stream: true }).asResponse()).text();
      assert.match(raw, /\n\n: keep-alive\n\n/, 'no heartbeat during 250 ms pauses with a 50 ms interval');
      assert.equal(raw.replaceAll(': keep-alive\n\n', ''), events.map(({ event, data }) => sseFrame(event, data)).join(''));
    });
  }
});
