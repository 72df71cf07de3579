// End-to-end: the official openai SDK → claudegate (the real binary) → a fake Anthropic upstream
// over verified TLS. Each test scripts the upstream's answer, drives the SDK, and checks both what
// the SDK got and what the daemon sent upstream.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import OpenAI, {
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'openai';

import { startStack, stopStack } from './support/stack.js';
import {
  errorEvent,
  newToolUseId,
  sendError,
  sendSse,
  textStream,
  thinkingStream,
  toolUseStream,
  transcript,
  writeEvent,
  writeSseHead,
} from './support/fake-upstream.js';
import { withTimeout } from './support/util.js';

const TEST_TIMEOUT = { timeout: 30_000 };

// Distinctive secrets, so a leak anywhere (upstream headers, bodies, logs) is unambiguous.
const MASTER_KEY_SECRET = randomBytes(24).toString('hex');
const OAUTH_TOKEN_SECRET = randomBytes(24).toString('hex');
const MASTER_KEY = `sk-e2e-${MASTER_KEY_SECRET}`;
const OAUTH_TOKEN = `sk-ant-oat01-e2e-${OAUTH_TOKEN_SECRET}`;

// A 1×1 PNG.
const PNG_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** The text of a system prompt, whether Anthropic got it as a string or as text blocks. */
function systemText(system) {
  if (typeof system === 'string') return system;
  if (Array.isArray(system)) return system.filter((b) => b.type === 'text').map((b) => b.text).join('\n');
  return undefined;
}

/** A message's content as blocks (Anthropic accepts a bare string for a single text block). */
function blocks(content) {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

/** The text of a tool_result's content (a string or text blocks). */
function toolResultText(content) {
  if (typeof content === 'string') return content;
  return (content ?? []).filter((b) => b.type === 'text').map((b) => b.text).join('');
}

function allHeaderText(record) {
  return record.rawHeaders.join('\n');
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

describe('claudegate via the openai SDK', () => {
  let certs;
  let fake;
  let daemon;
  let client;

  before(async () => {
    ({ certs, fake, daemon } = await startStack({ masterKey: MASTER_KEY, oauthToken: OAUTH_TOKEN }));
    client = new OpenAI({
      baseURL: `${daemon.baseUrl}/v1`,
      apiKey: MASTER_KEY,
      maxRetries: 0,
      timeout: 20_000,
    });
  });

  after(async () => {
    await stopStack({ certs, fake, daemon });
  });

  beforeEach(() => {
    fake.reset();
  });

  // Whatever a test did, every upstream call carried the OAuth token and never the master key.
  afterEach(() => {
    for (const rec of fake.requests) {
      assert.ok(!allHeaderText(rec).includes(MASTER_KEY_SECRET), `master key in upstream headers of ${rec.url}`);
      assert.ok(!rec.rawBody.includes(MASTER_KEY_SECRET), `master key in upstream body of ${rec.url}`);
      assert.equal(rec.headers.authorization, `Bearer ${OAUTH_TOKEN}`);
      assert.equal(rec.headers['x-api-key'], undefined);
    }
    assert.deepEqual(fake.handlerErrors.map(String), [], 'fake upstream handler/TLS errors');
  });

  test('models.list returns the default aliases', TEST_TIMEOUT, async () => {
    const ids = [];
    for await (const model of client.models.list()) {
      assert.equal(model.object, 'model');
      ids.push(model.id);
    }
    for (const alias of ['sonnet', 'opus', 'haiku']) {
      assert.ok(ids.includes(alias), `models.list should include ${alias}; got ${JSON.stringify(ids)}`);
    }
  });

  test('non-stream chat: content, finish_reason, usage, id, model; upstream request as sent', TEST_TIMEOUT, async () => {
    const answer = 'Hello from the fake upstream!';
    fake.handle((rec, res) =>
      sendSse(
        res,
        textStream({
          text: answer,
          usage: { input_tokens: 12, cache_read_input_tokens: 30, cache_creation_input_tokens: 4, output_tokens: 7 },
        }),
      ),
    );

    const completion = await client.chat.completions.create({
      model: 'sonnet',
      messages: [
        { role: 'system', content: 'You are a terse assistant.' },
        { role: 'user', content: 'Say hello.' },
      ],
    });

    // What the SDK got.
    assert.equal(completion.object, 'chat.completion');
    assert.equal(typeof completion.id, 'string');
    assert.ok(completion.id.length > 0, 'id must be non-empty');
    assert.equal(completion.model, 'sonnet', 'model echoes the requested alias');
    assert.equal(completion.choices.length, 1);
    assert.equal(completion.choices[0].index, 0);
    assert.equal(completion.choices[0].message.role, 'assistant');
    assert.equal(completion.choices[0].message.content, answer);
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assert.equal(completion.usage.completion_tokens, 7);
    assert.equal(completion.usage.prompt_tokens, 12 + 30 + 4, 'prompt_tokens counts cached and cache-write tokens');
    assert.equal(completion.usage.total_tokens, 12 + 30 + 4 + 7);
    assert.equal(completion.usage.prompt_tokens_details?.cached_tokens, 30, 'cached_tokens = cache_read_input_tokens');

    // What went upstream.
    assert.equal(fake.requests.length, 1, 'exactly one upstream call');
    const rec = fake.requests[0];
    assert.equal(rec.method, 'POST');
    assert.equal(new URL(rec.url, 'https://x').pathname, '/v1/messages');
    assert.equal(rec.headers.authorization, `Bearer ${OAUTH_TOKEN}`);
    assert.equal(rec.headers['x-api-key'], undefined, 'no x-api-key with an OAuth credential');
    assert.ok(!allHeaderText(rec).includes(MASTER_KEY_SECRET), 'the master key must never go upstream (headers)');
    assert.ok(!rec.rawBody.includes(MASTER_KEY_SECRET), 'the master key must never go upstream (body)');
    const betas = String(rec.headers['anthropic-beta'] ?? '').split(',').map((b) => b.trim());
    assert.ok(betas.includes('oauth-2025-04-20'), `anthropic-beta should include oauth-2025-04-20; got ${rec.headers['anthropic-beta']}`);
    assert.ok(rec.headers['anthropic-version'], 'anthropic-version header present');
    assert.match(String(rec.headers['user-agent']), /^claudegate\//);
    assert.match(String(rec.headers.accept), /text\/event-stream/);
    assert.match(String(rec.headers['content-type']), /^application\/json/);

    assert.ok(rec.body, 'upstream body is JSON');
    assert.equal(rec.body.model, 'claude-sonnet-5-5', 'alias resolved to the full id');
    assert.equal(rec.body.stream, true, 'the daemon always streams upstream');
    assert.equal(systemText(rec.body.system), 'You are a terse assistant.', 'system prompt moved to top-level system');
    assert.ok(Number.isInteger(rec.body.max_tokens) && rec.body.max_tokens > 0, `max_tokens set; got ${rec.body.max_tokens}`);
    assert.equal(rec.body.messages.length, 1);
    assert.ok(rec.body.messages.every((m) => m.role !== 'system'), 'no system role in messages');
    assert.equal(rec.body.messages[0].role, 'user');
    assert.deepEqual(blocks(rec.body.messages[0].content).map((b) => b.text), ['Say hello.']);
  });

  test('non-stream chat: the client max_tokens is passed through', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) => sendSse(res, textStream({ text: 'ok', model: 'claude-haiku-4-5' })));
    const completion = await client.chat.completions.create({
      model: 'haiku',
      max_tokens: 123,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(completion.choices[0].message.content, 'ok');
    assert.equal(completion.model, 'haiku');
    assert.equal(fake.lastRequest.body.max_tokens, 123);
    assert.match(fake.lastRequest.body.model, /^claude-haiku/);
  });

  test('stream chat with include_usage: role first, deltas concatenate, usage last', TEST_TIMEOUT, async () => {
    const pieces = ['Hel', 'lo, ', 'wor', 'ld!'];
    fake.handle((rec, res) =>
      sendSse(
        res,
        textStream({
          chunks: pieces,
          usage: { input_tokens: 20, cache_read_input_tokens: 100, output_tokens: 9 },
        }),
      ),
    );

    const stream = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'Greet the world.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    assert.ok(chunks.length >= 3, `expected several chunks, got ${chunks.length}`);
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.id, chunks[0].id, 'all chunks share one id');
      assert.equal(c.created, chunks[0].created, 'all chunks share one created');
      assert.equal(c.model, 'sonnet');
    }
    assert.equal(chunks[0].choices[0].delta.role, 'assistant', 'first chunk carries the role');
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta?.content ?? '')).join('');
    assert.equal(text, pieces.join(''));

    const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f != null);
    assert.deepEqual(finishes, ['stop'], 'exactly one finish_reason, "stop"');

    const last = chunks.at(-1);
    assert.deepEqual(last.choices, [], 'the usage chunk has no choices');
    assert.ok(last.usage, 'the last chunk carries usage');
    assert.equal(last.usage.completion_tokens, 9);
    assert.equal(last.usage.prompt_tokens, 120);
    assert.equal(last.usage.total_tokens, 129);
    assert.equal(last.usage.prompt_tokens_details?.cached_tokens, 100);
    for (const c of chunks.slice(0, -1)) assert.ok(c.usage == null, 'only the last chunk has usage');

    assert.equal(fake.requests.length, 1);
    assert.equal(fake.lastRequest.body.stream, true);
  });

  test('upstream head and first events in one TLS record are not lost', TEST_TIMEOUT, async () => {
    // Servers that buffer send the 200 head together with message_start and the first deltas.
    fake.handle((rec, res) =>
      sendSse(res, textStream({ chunks: ['one ', 'write'], usage: { input_tokens: 3, output_tokens: 2 } }), { coalesce: true }),
    );
    const completion = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(completion.choices[0].message.content, 'one write');
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assert.equal(completion.usage.prompt_tokens, 3);

    fake.handle((rec, res) => sendSse(res, textStream({ chunks: ['one ', 'write'] }), { coalesce: true }));
    const stream = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks[0]?.choices[0]?.delta?.role, 'assistant');
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'one write');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  });

  test('stream chat without include_usage has no usage chunk', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) => sendSse(res, textStream({ text: 'short answer' })));
    const stream = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'short answer');
    assert.ok(chunks.every((c) => c.choices.length === 1), 'every chunk has a choice');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  });

  test('tools round-trip: tool_use → tool_calls, then tool_calls + tool message → tool_use/tool_result', TEST_TIMEOUT, async () => {
    const toolId = newToolUseId();
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather for a city',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
            required: ['city'],
          },
        },
      },
    ];
    const input = { city: 'Paris', unit: 'c' };
    fake.handle((rec, res) =>
      sendSse(res, toolUseStream({ text: 'Let me check.', tools: [{ id: toolId, name: 'get_weather', input }] })),
    );

    const first = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools,
    });
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.content, 'Let me check.');
    assert.equal(choice.message.tool_calls?.length, 1);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(typeof call.id, 'string');
    assert.ok(call.id.length > 0);
    assert.equal(call.function.name, 'get_weather');
    assert.equal(typeof call.function.arguments, 'string', 'arguments is a JSON string');
    assert.deepEqual(JSON.parse(call.function.arguments), input);

    // The tools went upstream in Anthropic's shape.
    const firstUp = fake.requests[0].body;
    assert.equal(firstUp.tools?.length, 1);
    assert.equal(firstUp.tools[0].name, 'get_weather');
    assert.equal(firstUp.tools[0].description, 'Current weather for a city');
    assert.equal(firstUp.tools[0].input_schema?.type, 'object');
    assert.deepEqual(firstUp.tools[0].input_schema.required, ['city']);
    assert.ok(firstUp.tools[0].input_schema.properties?.city, 'input_schema keeps the properties');

    // Second turn: send back the assistant tool call and the tool result.
    fake.handle((rec, res) => sendSse(res, textStream({ text: 'It is 21 °C in Paris.' })));
    const second = await client.chat.completions.create({
      model: 'sonnet',
      messages: [
        { role: 'user', content: 'What is the weather in Paris?' },
        choice.message,
        { role: 'tool', tool_call_id: call.id, content: '{"temperature":21,"unit":"c"}' },
      ],
      tools,
    });
    assert.equal(second.choices[0].message.content, 'It is 21 °C in Paris.');
    assert.equal(second.choices[0].finish_reason, 'stop');

    assert.equal(fake.requests.length, 2);
    const msgs = fake.requests[1].body.messages;
    assert.equal(msgs.length, 3, `expected user, assistant, user; got ${JSON.stringify(msgs)}`);
    assert.deepEqual(msgs.map((m) => m.role), ['user', 'assistant', 'user']);

    const assistantBlocks = blocks(msgs[1].content);
    const toolUse = assistantBlocks.find((b) => b.type === 'tool_use');
    assert.ok(toolUse, `assistant message has a tool_use block: ${JSON.stringify(assistantBlocks)}`);
    assert.equal(toolUse.id, toolId, 'tool_use id is the id Anthropic issued');
    assert.equal(toolUse.name, 'get_weather');
    assert.deepEqual(toolUse.input, input, 'tool_use input is an object, not a string');
    const assistantText = assistantBlocks.filter((b) => b.type === 'text').map((b) => b.text).join('');
    assert.equal(assistantText, 'Let me check.');
    assert.ok(
      assistantBlocks.findIndex((b) => b.type === 'text') < assistantBlocks.findIndex((b) => b.type === 'tool_use'),
      'text comes before tool_use',
    );

    const resultBlocks = blocks(msgs[2].content);
    const toolResult = resultBlocks.find((b) => b.type === 'tool_result');
    assert.ok(toolResult, `a user message carries the tool_result: ${JSON.stringify(resultBlocks)}`);
    assert.equal(toolResult.tool_use_id, toolId);
    assert.equal(toolResultText(toolResult.content), '{"temperature":21,"unit":"c"}');
  });

  test('streamed parallel tool calls work with the SDK stream helper (dense indexes)', TEST_TIMEOUT, async () => {
    const calls = [
      { id: newToolUseId(), name: 'get_weather', input: { city: 'Paris' } },
      { id: newToolUseId(), name: 'get_time', input: { tz: 'Europe/Paris', precise: true } },
    ];
    fake.handle((rec, res) => sendSse(res, toolUseStream({ text: 'Checking both.', tools: calls })));
    const fn = (name) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: {} } } });

    const runner = client.chat.completions.stream({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'Weather and time in Paris?' }],
      tools: [fn('get_weather'), fn('get_time')],
    });
    const rawChunks = [];
    runner.on('chunk', (c) => rawChunks.push(c));
    const final = await runner.finalChatCompletion();

    const msg = final.choices[0].message;
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.equal(msg.content, 'Checking both.');
    assert.equal(msg.tool_calls.length, 2);
    msg.tool_calls.forEach((tc, i) => {
      assert.equal(tc.type, 'function');
      assert.equal(tc.function.name, calls[i].name);
      assert.deepEqual(JSON.parse(tc.function.arguments), calls[i].input);
    });
    const indexes = new Set(
      rawChunks.flatMap((c) => c.choices.flatMap((ch) => (ch.delta.tool_calls ?? []).map((t) => t.index))),
    );
    assert.deepEqual([...indexes].sort(), [0, 1], 'tool_call indexes are dense from 0');
  });

  test('images: data: URL → base64 image block; https URL → url image block', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) => sendSse(res, textStream({ text: 'Two images.' })));
    const completion = await client.chat.completions.create({
      model: 'sonnet',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe these.' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
          ],
        },
      ],
    });
    assert.equal(completion.choices[0].message.content, 'Two images.');

    const content = blocks(fake.lastRequest.body.messages[0].content);
    const images = content.filter((b) => b.type === 'image');
    assert.equal(images.length, 2, `two image blocks upstream: ${JSON.stringify(content)}`);
    assert.deepEqual(images[0].source, { type: 'base64', media_type: 'image/png', data: PNG_B64 });
    assert.deepEqual(images[1].source, { type: 'url', url: 'https://example.com/cat.jpg' });
    assert.equal(content.find((b) => b.type === 'text')?.text, 'Describe these.');
  });

  test('thinking: reasoning_content, not mixed into content (stream and non-stream)', TEST_TIMEOUT, async () => {
    const thinking = 'The user wants a number. 6 times 7 is 42.';
    fake.handle((rec, res) => sendSse(res, thinkingStream({ thinking, text: '42' })));
    const completion = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'What is 6×7?' }],
    });
    assert.equal(completion.choices[0].message.content, '42');
    assert.equal(completion.choices[0].message.reasoning_content, thinking);

    const stream = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'What is 6×7?' }],
      stream: true,
    });
    let content = '';
    let reasoning = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta ?? {};
      content += delta.content ?? '';
      reasoning += delta.reasoning_content ?? '';
    }
    assert.equal(content, '42');
    assert.equal(reasoning, thinking);
  });

  // ------------------------------------------------------------------------------------------
  // Errors, as the SDK's typed errors
  // ------------------------------------------------------------------------------------------

  test('wrong key → AuthenticationError 401, nothing sent upstream', TEST_TIMEOUT, async () => {
    const wrong = new OpenAI({
      baseURL: `${daemon.baseUrl}/v1`,
      apiKey: `sk-wrong-${randomBytes(8).toString('hex')}`,
      maxRetries: 0,
      timeout: 10_000,
    });
    const err = await expectError(
      wrong.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] }),
      AuthenticationError,
    );
    assert.equal(err.status, 401);
    const err2 = await expectError(wrong.models.list(), AuthenticationError);
    assert.equal(err2.status, 401);
    assert.equal(fake.requests.length, 0);
  });

  test('upstream 429 rate_limit_error → RateLimitError with retry-after kept', TEST_TIMEOUT, async () => {
    const message = 'Number of request tokens has exceeded your per-minute rate limit';
    fake.handle((rec, res) =>
      // 45 s is beyond the gateway's retry budget (30 s): the wait is left to the client.
      sendError(res, 429, 'rate_limit_error', message, { 'retry-after': '45', 'request-id': 'req_e2e_ratelimited' }),
    );
    const err = await expectError(
      client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] }),
      RateLimitError,
    );
    assert.equal(err.status, 429);
    assert.ok(err.message.includes(message), `message should carry the upstream text; got ${err.message}`);
    assert.equal(err.headers?.get('retry-after'), '45');
    assert.equal(err.headers?.get('request-id'), 'req_e2e_ratelimited');
    assert.equal(fake.requests.length, 1, 'a wait beyond the retry budget is not waited out by the daemon');
  });

  test('upstream 429 on a streaming request → RateLimitError before any chunk', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) => sendError(res, 429, 'rate_limit_error', 'slow down', { 'retry-after': '45' }));
    const err = await expectError(
      client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      RateLimitError,
    );
    assert.equal(err.status, 429);
  });

  test('upstream 400 invalid_request_error → BadRequestError with the upstream message', TEST_TIMEOUT, async () => {
    const message = 'messages.0.content.0.text: text content blocks must be non-empty';
    fake.handle((rec, res) => sendError(res, 400, 'invalid_request_error', message));
    const err = await expectError(
      client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] }),
      BadRequestError,
    );
    assert.equal(err.status, 400);
    assert.ok(err.message.includes(message), `got ${err.message}`);
    assert.equal(err.type, 'invalid_request_error');
  });

  test('upstream 529 overloaded_error → InternalServerError with status 503', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) => sendError(res, 529, 'overloaded_error', 'Overloaded'));
    const err = await expectError(
      client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] }),
      InternalServerError,
    );
    assert.equal(err.status, 503);
    assert.ok(err.message.includes('Overloaded'), `got ${err.message}`);
  });

  test('upstream 401 (the gateway credential was refused) → 502, not 401', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) => sendError(res, 401, 'authentication_error', 'OAuth token has expired.'));
    const err = await expectError(
      client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] }),
      InternalServerError,
    );
    assert.equal(err.status, 502);
    assert.ok(!(err instanceof AuthenticationError), 'must not look like a bad client key');
    assert.equal(err.headers?.get('x-should-retry'), 'false');
  });

  test('unknown model "gpt-4" → NotFoundError 404, nothing sent upstream', TEST_TIMEOUT, async () => {
    const err = await expectError(
      client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }),
      NotFoundError,
    );
    assert.equal(err.status, 404);
    assert.equal(fake.requests.length, 0);
  });

  test('n: 2 → BadRequestError naming n (drop_params is off without a config file)', TEST_TIMEOUT, async () => {
    const err = await expectError(
      client.chat.completions.create({ model: 'sonnet', n: 2, messages: [{ role: 'user', content: 'hi' }] }),
      BadRequestError,
    );
    assert.equal(err.status, 400);
    assert.ok(err.param === 'n' || /\bn\b/.test(err.message), `error should name n; param=${err.param} message=${err.message}`);
    assert.equal(fake.requests.length, 0);
  });

  // ------------------------------------------------------------------------------------------
  // Stream failures
  // ------------------------------------------------------------------------------------------

  test('mid-stream upstream event: error → the SDK iteration throws APIError, no normal finish', TEST_TIMEOUT, async () => {
    const head = transcript({ blocks: [{ type: 'text', text: 'partial answer', chunks: ['partial ', 'answer'] }] });
    // message_start, ping, content_block_start, two text deltas — then the error.
    const events = [...head.slice(0, 5), errorEvent('overloaded_error', 'Overloaded')];
    fake.handle((rec, res) => sendSse(res, events));

    const stream = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const chunks = [];
    const err = await expectError(
      (async () => {
        for await (const chunk of stream) chunks.push(chunk);
      })(),
      APIError,
    );
    assert.ok(!(err instanceof APIUserAbortError));
    assert.ok(/overload/i.test(err.message), `the error names the cause; got ${err.message}`);
    const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f != null);
    assert.deepEqual(finishes, [], 'no finish_reason after an upstream error');
  });

  test('upstream event: error for a non-stream client → InternalServerError 503', TEST_TIMEOUT, async () => {
    const head = transcript({ blocks: [{ type: 'text', text: 'partial', chunks: ['partial'] }] });
    fake.handle((rec, res) => sendSse(res, [...head.slice(0, 4), errorEvent('overloaded_error', 'Overloaded')]));
    const err = await expectError(
      client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] }),
      InternalServerError,
    );
    assert.equal(err.status, 503);
  });

  test('upstream stream ends without message_stop → error, never a made-up finish', TEST_TIMEOUT, async () => {
    const head = transcript({ blocks: [{ type: 'text', text: 'cut off', chunks: ['cut ', 'off'] }] });
    fake.handle((rec, res) => sendSse(res, head.slice(0, 5))); // ends cleanly after two deltas

    const stream = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const chunks = [];
    await expectError(
      (async () => {
        for await (const chunk of stream) chunks.push(chunk);
      })(),
      APIError,
    );
    const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f != null);
    assert.deepEqual(finishes, []);

    // The same for a non-streaming client: 502.
    fake.handle((rec, res) => sendSse(res, head.slice(0, 5)));
    const err = await expectError(
      client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] }),
      InternalServerError,
    );
    assert.equal(err.status, 502);
  });

  test('client disconnect mid-stream → the daemon closes the upstream connection within 2 s', TEST_TIMEOUT, async () => {
    const head = transcript({ blocks: [{ type: 'text', text: 'this will never finish', chunks: ['this ', 'will '] }] });
    // A stalled upstream: message_start, ping, block start, two deltas, then silence (no end).
    fake.handle((rec, res) => {
      writeSseHead(res);
      for (const ev of head.slice(0, 5)) writeEvent(res, ev);
    });

    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'sonnet', messages: [{ role: 'user', content: 'write a long essay' }], stream: true },
      { signal: controller.signal },
    );
    const rec = await fake.waitForRequest(0);

    // openai-node ends the iteration quietly after an abort (or throws APIUserAbortError in some
    // versions); either is fine — what matters is what happens upstream.
    let sawContent = false;
    let abortedAt;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content && !sawContent) {
          sawContent = true;
          abortedAt = Date.now();
          controller.abort();
        }
      }
    } catch (err) {
      if (!(err instanceof APIUserAbortError || err?.name === 'AbortError')) throw err;
    }
    assert.ok(sawContent, 'the first deltas reached the client before the abort');

    const closed = await withTimeout(
      rec.clientClosed,
      2000,
      'fake upstream: the daemon kept the upstream stream open after the client disconnected',
    );
    assert.ok(closed, 'upstream connection closed');
    assert.ok(Date.now() - abortedAt <= 2500);
  });

  test('the daemon still serves after the failures above', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) => sendSse(res, textStream({ text: 'still alive' })));
    const completion = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'ping' }],
    });
    assert.equal(completion.choices[0].message.content, 'still alive');
  });

  // Keep last: stops the daemon.
  test('clean shutdown (exit 0) and the logs never contain the master key or the OAuth token', TEST_TIMEOUT, async () => {
    fake.releaseOpenResponses();
    await daemon.stop();
    const log = daemon.stderr() + daemon.stdout();
    assert.ok(log.includes('listening on'), 'the log was captured');
    assert.ok(log.includes('/v1/chat/completions'), 'requests were logged (so the check means something)');
    for (const [name, secret] of [
      ['master key', MASTER_KEY],
      ['master key (random part)', MASTER_KEY_SECRET],
      ['OAuth token', OAUTH_TOKEN],
      ['OAuth token (random part)', OAUTH_TOKEN_SECRET],
      ['OAuth token (first 24 chars of the random part)', OAUTH_TOKEN_SECRET.slice(0, 24)],
      ['master key (first 24 chars of the random part)', MASTER_KEY_SECRET.slice(0, 24)],
    ]) {
      assert.ok(!log.includes(secret), `the daemon log contains the ${name}`);
    }
  });
});
