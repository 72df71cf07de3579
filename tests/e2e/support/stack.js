// The stack every e2e test file runs against: a throwaway CA and certificate, the fake Anthropic
// upstream over verified TLS, and the daemon pointed at it. Started in `before`, stopped in
// `after` by stopStack, which copes with a stack that only partly started.
import { makeCerts } from './certs.js';
import { startDaemon } from './daemon.js';
import { FakeUpstream } from './fake-upstream.js';

/**
 * @param {object} opts  masterKey, oauthToken, and whatever else startDaemon takes (args, env)
 * @returns {Promise<{certs: object, fake: FakeUpstream, daemon: object}>}
 */
export async function startStack({ masterKey, oauthToken, ...daemonOptions }) {
  const stack = { certs: makeCerts() };
  try {
    stack.fake = await FakeUpstream.start({ key: stack.certs.key, cert: stack.certs.cert });
    stack.daemon = await startDaemon({
      masterKey,
      oauthToken,
      upstreamUrl: stack.fake.baseUrl,
      caFile: stack.certs.caFile,
      ...daemonOptions,
    });
  } catch (error) {
    await stopStack(stack);
    throw error;
  }
  return stack;
}

/** Stops what `startStack` started: the daemon (by pid), then the fake, then the certificates. */
export async function stopStack({ certs, fake, daemon } = {}) {
  fake?.releaseOpenResponses?.(); // streams a test left hanging would hold the daemon's stop
  try {
    await daemon?.stop();
  } finally {
    await fake?.close();
    certs?.cleanup?.();
  }
}
