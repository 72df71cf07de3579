// End-to-end: retries do not multiply. The official openai SDK with its default retries (2) →
// claudegate with its default retries (2) → an upstream that is always overloaded. The gateway
// retries, then answers 503 with `x-should-retry: false`, which the SDK obeys: exactly
// 1 + num_retries upstream attempts, not (1 + 2) × (1 + 2). And a flaky upstream (the first
// attempt of each request overloaded) costs the SDK no error and no retry of its own.
// docs/configuration.md, "Retries and fallbacks".
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import OpenAI, { InternalServerError } from 'openai';

import { startStack, stopStack } from './support/stack.js';
import { sendError, sendSse, textStream } from './support/fake-upstream.js';

const TEST_TIMEOUT = { timeout: 60_000 };
const MASTER_KEY = `sk-e2e-${randomBytes(24).toString('hex')}`;
const OAUTH_TOKEN = `sk-ant-oat01-e2e-${randomBytes(24).toString('hex')}`;
const DEFAULT_GATEWAY_RETRIES = 2; // docs/configuration.md: num_retries

describe('retries: the openai SDK and the gateway together', () => {
  let certs;
  let fake;
  let daemon;

  before(async () => {
    ({ certs, fake, daemon } = await startStack({ masterKey: MASTER_KEY, oauthToken: OAUTH_TOKEN }));
  });

  afterEach(() => fake.reset());

  after(async () => {
    await stopStack({ certs, fake, daemon });
  });

  // The SDK's defaults: maxRetries 2, honouring x-should-retry.
  const client = () => new OpenAI({ baseURL: `${daemon.baseUrl}/v1`, apiKey: MASTER_KEY, timeout: 30_000 });

  test('an always-overloaded upstream sees 1 + num_retries attempts, not more', TEST_TIMEOUT, async () => {
    fake.handle((rec, res) => sendError(res, 529, 'overloaded_error', 'Overloaded'));
    let err;
    try {
      await client().chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof InternalServerError, `expected InternalServerError, got ${err}`);
    assert.equal(err.status, 503);
    assert.equal(err.headers?.get('x-should-retry'), 'false');
    assert.equal(fake.requests.length, 1 + DEFAULT_GATEWAY_RETRIES, 'the SDK did not retry on top');
  });

  test('a flaky upstream costs the SDK nothing', TEST_TIMEOUT, async () => {
    let seen = 0;
    fake.handle((rec, res) =>
      ++seen % 2 === 1
        ? sendError(res, 529, 'overloaded_error', 'Overloaded')
        : sendSse(res, textStream({ text: 'hello' })),
    );
    for (let i = 0; i < 3; i += 1) {
      const answer = await client().chat.completions.create({
        model: 'sonnet',
        messages: [{ role: 'user', content: 'hi' }],
      });
      assert.equal(answer.choices[0].message.content, 'hello');
    }
    assert.equal(fake.requests.length, 6);
  });
});
