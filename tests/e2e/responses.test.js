// End-to-end: the official openai SDK's Responses API (client.responses.create / .stream) →
// claudegate (the real binary) → a fake Anthropic upstream over verified TLS.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import OpenAI, { BadRequestError, NotFoundError } from 'openai';

import { startStack, stopStack } from './support/stack.js';
import { errorEvent, sendSse, textStream, thinkingStream, toolUseStream } from './support/fake-upstream.js';

const TEST_TIMEOUT = { timeout: 30_000 };
const MASTER_KEY = `sk-e2e-${randomBytes(24).toString('hex')}`;
const OAUTH_TOKEN = `sk-ant-oat01-e2e-${randomBytes(24).toString('hex')}`;

const WEATHER_TOOL = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};

function systemText(system) {
  if (typeof system === 'string') return system;
  return (system ?? []).filter((b) => b.type === 'text').map((b) => b.text).join('\n');
}

function blocks(content) {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

/** Checks sequence numbers are 0, 1, 2, … and returns the event types in order. */
function checkSequence(events) {
  events.forEach((event, i) => assert.equal(event.sequence_number, i, `sequence_number of ${event.type}`));
  return events.map((e) => e.type);
}

describe('claudegate Responses API via the openai SDK', () => {
  let certs;
  let fake;
  let daemon;
  let client;

  before(async () => {
    ({ certs, fake, daemon } = await startStack({ masterKey: MASTER_KEY, oauthToken: OAUTH_TOKEN }));
    client = new OpenAI({ baseURL: `${daemon.baseUrl}/v1`, apiKey: MASTER_KEY, maxRetries: 0, timeout: 20_000 });
  });

  after(async () => {
    await stopStack({ certs, fake, daemon });
  });

  beforeEach(() => fake.reset());

  afterEach(() => {
    for (const rec of fake.requests) {
      assert.ok(!rec.rawBody.includes(MASTER_KEY), 'master key in upstream body');
      assert.equal(rec.headers.authorization, `Bearer ${OAUTH_TOKEN}`);
    }
    assert.deepEqual(fake.handlerErrors.map(String), [], 'fake upstream handler/TLS errors');
  });

  test('responses.create (non-stream): output_text, usage, echoed fields; upstream request', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) =>
      sendSse(res, textStream({ text: 'Bonjour!', usage: { input_tokens: 12, cache_read_input_tokens: 30, output_tokens: 7 } })),
    );
    const response = await client.responses.create({
      model: 'sonnet',
      instructions: 'Answer in French.',
      input: 'Say hello.',
      max_output_tokens: 64,
      metadata: { ticket: '42' },
      store: true,
    });
    assert.equal(response.object, 'response');
    assert.match(response.id, /^resp_/);
    assert.equal(response.status, 'completed');
    assert.equal(response.model, 'sonnet');
    assert.equal(response.output_text, 'Bonjour!');
    assert.equal(response.output.length, 1);
    assert.equal(response.output[0].type, 'message');
    assert.equal(response.output[0].role, 'assistant');
    assert.equal(response.output[0].content[0].type, 'output_text');
    assert.equal(response.usage.input_tokens, 42);
    assert.equal(response.usage.input_tokens_details.cached_tokens, 30);
    assert.equal(response.usage.output_tokens, 7);
    assert.equal(response.usage.total_tokens, 49);
    assert.equal(response.instructions, 'Answer in French.');
    assert.equal(response.max_output_tokens, 64);
    assert.deepEqual(response.metadata, { ticket: '42' });
    assert.equal(response.store, true, 'stored by default, as OpenAI does');

    assert.equal(fake.requests.length, 1);
    const body = fake.requests[0].body;
    assert.equal(new URL(fake.requests[0].url, 'https://x').pathname, '/v1/messages');
    assert.equal(body.model, 'claude-sonnet-5-5');
    assert.equal(body.stream, true);
    assert.equal(body.max_tokens, 64);
    assert.equal(systemText(body.system), 'Answer in French.');
    assert.deepEqual(blocks(body.messages[0].content).map((b) => b.text), ['Say hello.']);
    assert.equal(body.metadata, undefined, 'OpenAI metadata does not go upstream');
  });

  test('responses.create (stream: true): documented event sequence with increasing sequence numbers', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) => sendSse(res, textStream({ text: 'Hello there, streaming world' })));
    const stream = await client.responses.create({ model: 'sonnet', input: 'Hi', stream: true });
    const events = [];
    for await (const event of stream) events.push(event);
    const types = checkSequence(events);
    assert.deepEqual(types.slice(0, 4), [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    assert.deepEqual(types.slice(-4), [
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
    assert.equal(text, 'Hello there, streaming world');
    const done = events.at(-1).response;
    assert.equal(done.status, 'completed');
    assert.equal(done.output[0].content[0].text, text);
    assert.equal(done.usage.output_tokens, 5);
    const itemId = events[2].item.id;
    for (const e of events.filter((e) => 'item_id' in e)) assert.equal(e.item_id, itemId);
  });

  test('responses.stream helper: deltas with snapshots, finalResponse, reasoning item', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) => sendSse(res, thinkingStream({ thinking: 'Let me think.', signature: 'sig_e2e', text: '42' })));
    const stream = client.responses.stream({ model: 'sonnet', input: 'Meaning of life?', reasoning: { effort: 'high' } });
    const snapshots = [];
    stream.on('response.output_text.delta', (event) => snapshots.push(event.snapshot));
    const final = await stream.finalResponse();
    assert.equal(final.status, 'completed');
    assert.equal(final.output_text, '42');
    assert.equal(snapshots.at(-1), '42');
    assert.equal(final.output[0].type, 'reasoning');
    assert.equal(final.output[0].summary[0].text, 'Let me think.');
    assert.equal(final.output[0].encrypted_content, 'sig_e2e');
    assert.equal(final.output[1].type, 'message');
    const body = fake.requests[0].body;
    assert.ok(body.thinking, 'reasoning.effort turns thinking on');
  });

  test('function call round trip: function_call out, function_call_output back in', TEST_TIMEOUT, async () => {
    const toolId = 'toolu_e2e_weather1';
    fake.handle((rec, res) => {
      if (fake.requests.length === 1) {
        return sendSse(res, toolUseStream({ tools: [{ id: toolId, name: 'get_weather', input: { city: 'Paris' } }] }));
      }
      return sendSse(res, textStream({ text: 'It is 21C in Paris.' }));
    });

    const stream = client.responses.stream({ model: 'sonnet', input: 'Weather in Paris?', tools: [WEATHER_TOOL] });
    const argDeltas = [];
    stream.on('response.function_call_arguments.delta', (e) => argDeltas.push(e.delta));
    const first = await stream.finalResponse();
    assert.equal(first.status, 'completed');
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call, `a function_call item; got ${JSON.stringify(first.output)}`);
    assert.equal(call.call_id, toolId);
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
    assert.equal(argDeltas.join(''), call.arguments);
    const tools = fake.requests[0].body.tools;
    assert.equal(tools[0].name, 'get_weather');
    assert.deepEqual(tools[0].input_schema.required, ['city']);

    const second = await client.responses.create({
      model: 'sonnet',
      tools: [WEATHER_TOOL],
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        ...first.output,
        { type: 'function_call_output', call_id: call.call_id, output: '21C, sunny' },
      ],
    });
    assert.equal(second.output_text, 'It is 21C in Paris.');
    const messages = fake.requests[1].body.messages;
    assert.equal(messages.length, 3);
    assert.equal(messages[1].role, 'assistant');
    const toolUse = messages[1].content.find((b) => b.type === 'tool_use');
    assert.equal(toolUse.id, toolId);
    assert.deepEqual(toolUse.input, { city: 'Paris' });
    assert.equal(messages[2].role, 'user');
    assert.equal(messages[2].content[0].type, 'tool_result');
    assert.equal(messages[2].content[0].tool_use_id, toolId);
    assert.equal(messages[2].content[0].content, '21C, sunny');
  });

  test('unknown stored ids: previous_response_id and retrieve are 404s, no upstream call', TEST_TIMEOUT, async () => {
    await assert.rejects(
      client.responses.create({ model: 'sonnet', input: 'Hi', previous_response_id: 'resp_123' }),
      (err) => err instanceof NotFoundError && err.param === 'previous_response_id' && /resp_123/.test(err.message),
    );
    await assert.rejects(
      client.responses.retrieve('resp_123'),
      (err) => err instanceof NotFoundError && /resp_123/.test(err.message),
    );
    assert.equal(fake.requests.length, 0);
  });

  test('mid-stream upstream error: error event then response.failed', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) => {
      const events = textStream({ text: 'partial answer' }).slice(0, 4);
      events.push(errorEvent('overloaded_error', 'Overloaded'));
      return sendSse(res, events);
    });
    const stream = await client.responses.create({ model: 'sonnet', input: 'Hi', stream: true });
    const events = [];
    for await (const event of stream) events.push(event);
    const types = checkSequence(events);
    assert.deepEqual(types.slice(-2), ['error', 'response.failed']);
    assert.equal(events.at(-2).message, 'Overloaded');
    assert.equal(events.at(-1).response.status, 'failed');
    assert.equal(events.at(-1).response.error.message, 'Overloaded');
  });
});
