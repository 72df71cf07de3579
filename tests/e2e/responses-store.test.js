// End-to-end: stored responses (issue #17) with real clients. The Vercel AI SDK's Responses
// provider with its default `store: true` sends `item_reference` items on its second tool step;
// the openai SDK continues a conversation with `previous_response_id` across a `kill -9` of the
// daemon, and reads, lists and deletes what was stored.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI, { NotFoundError } from 'openai';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, isStepCount, tool } from 'ai';
import { z } from 'zod';

import { startDaemon } from './support/daemon.js';
import { startStack, stopStack } from './support/stack.js';
import { sendSse, textStream, toolUseStream } from './support/fake-upstream.js';
import { withTimeout } from './support/util.js';

const TEST_TIMEOUT = { timeout: 60_000 };
const MASTER_KEY = `sk-e2e-${randomBytes(24).toString('hex')}`;
const OAUTH_TOKEN = `sk-ant-oat01-e2e-${randomBytes(24).toString('hex')}`;

/** Every text of an Anthropic request's messages, in order (what Claude is shown). */
function conversationText(body) {
  return body.messages
    .flatMap((m) => (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content))
    .map((b) => b.text ?? (b.type === 'tool_result' ? JSON.stringify(b.content) : b.type === 'tool_use' ? `tool_use:${b.name}` : ''))
    .join('|');
}

/** Polls (bounded) until the stored response can be read back, i.e. the write is committed. */
async function waitUntilStored(client, id) {
  return withTimeout(
    (async () => {
      for (;;) {
        try {
          return await client.responses.retrieve(id);
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
        }
        await new Promise((r) => setImmediate(r));
      }
    })(),
    10_000,
    `response ${id} was never stored`,
  );
}

describe('stored responses with real clients', () => {
  let certs;
  let fake;
  let daemon;
  let dataDir;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'claudegate-e2e-data-'));
    ({ certs, fake, daemon } = await startStack({
      masterKey: MASTER_KEY,
      oauthToken: OAUTH_TOKEN,
      env: { CLAUDEGATE_DATA_DIR: dataDir },
    }));
  });

  after(async () => {
    await stopStack({ certs, fake, daemon });
    rmSync(dataDir, { recursive: true, force: true });
  });

  beforeEach(() => fake.reset());

  afterEach(() => {
    for (const rec of fake.requests) {
      assert.ok(!rec.rawBody.includes(MASTER_KEY), 'master key in upstream body');
    }
    assert.deepEqual(fake.handlerErrors.map(String), [], 'fake upstream handler/TLS errors');
  });

  test('AI SDK Responses provider (default store: true): item_reference on the tool step', TEST_TIMEOUT, async () => {
    const callId = `toolu_e2e${randomBytes(6).toString('hex')}`;
    fake.handle(async (rec, res) => {
      const last = rec.body.messages.at(-1);
      const answered = Array.isArray(last.content) && last.content.some((b) => b.type === 'tool_result');
      if (answered) return sendSse(res, textStream({ text: 'It is sunny in Paris.' }));
      return sendSse(res, toolUseStream({ text: 'Let me look that up.', tools: [{ id: callId, name: 'weather', input: { city: 'Paris' } }] }));
    });
    const provider = createOpenAI({ baseURL: `${daemon.baseUrl}/v1`, apiKey: MASTER_KEY });
    const result = await generateText({
      model: provider.responses('sonnet'),
      prompt: 'What is the weather in Paris?',
      tools: {
        weather: tool({
          description: 'Current weather for a city',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => ({ city, sky: 'sunny' }),
        }),
      },
      stopWhen: isStepCount(3),
    });
    assert.equal(result.text, 'It is sunny in Paris.');
    assert.equal(fake.requests.length, 2);
    const second = fake.requests[1];
    // The client sent the assistant's text as an item_reference; claudegate put it back.
    assert.ok(second.body.messages.length >= 3, JSON.stringify(second.body.messages));
    const text = conversationText(second.body);
    assert.match(text, /What is the weather in Paris\?/);
    assert.match(text, /Let me look that up\./);
    assert.match(text, /tool_use:weather/);
    assert.match(text, /sunny/);
  });

  test('openai SDK: previous_response_id survives kill -9; retrieve, input_items, delete', TEST_TIMEOUT, async () => {
    fake.handle(async (rec, res) => {
      const turns = rec.body.messages.filter((m) => m.role === 'user').length;
      return sendSse(res, textStream({ text: turns === 1 ? 'Paris.' : 'About two million people.' }));
    });
    let client = new OpenAI({ baseURL: `${daemon.baseUrl}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
    const first = await client.responses.create({ model: 'sonnet', input: 'What is the capital of France?' });
    assert.equal(first.output_text, 'Paris.');
    assert.equal(first.store, true);
    const stored = await waitUntilStored(client, first.id);
    assert.equal(stored.id, first.id);
    assert.equal(stored.output_text ?? stored.output[0].content[0].text, 'Paris.');

    // kill -9 between the turns, then a new daemon on the same data directory.
    process.kill(daemon.pid, 'SIGKILL');
    await withTimeout(daemon.exited, 10_000, 'daemon did not die');
    await daemon.stop().catch(() => {}); // removes its temporary HOME; the exit was not clean by design
    daemon = await startDaemon({
      masterKey: MASTER_KEY,
      oauthToken: OAUTH_TOKEN,
      upstreamUrl: fake.baseUrl,
      caFile: certs.caFile,
      env: { CLAUDEGATE_DATA_DIR: dataDir },
    });
    client = new OpenAI({ baseURL: `${daemon.baseUrl}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });

    const second = await client.responses.create({
      model: 'sonnet',
      previous_response_id: first.id,
      input: 'And roughly how many people live there?',
    });
    assert.equal(second.output_text, 'About two million people.');
    assert.equal(second.previous_response_id, first.id);
    const upstream = fake.requests.at(-1).body;
    assert.deepEqual(
      upstream.messages.map((m) => m.role),
      ['user', 'assistant', 'user'],
      'the stored turn is replayed before the new input',
    );
    assert.match(conversationText(upstream), /capital of France.*Paris\..*how many people/);

    await waitUntilStored(client, second.id);
    const items = await client.responses.inputItems.list(second.id);
    assert.equal(items.data.length, 1);
    assert.equal(items.data[0].type, 'message');
    assert.match(JSON.stringify(items.data[0].content), /how many people/);

    const deleted = await client.responses.delete(second.id);
    assert.ok(deleted === undefined || deleted === null || deleted.deleted === true || typeof deleted === 'object');
    await assert.rejects(client.responses.retrieve(second.id), NotFoundError);
    await assert.rejects(
      client.responses.create({ model: 'sonnet', previous_response_id: second.id, input: 'more' }),
      NotFoundError,
    );
  });
});
