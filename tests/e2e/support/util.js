// Small helpers shared by the e2e support code and tests.

/** Rejects with `message` if `promise` has not settled within `ms`; never leaves a timer behind. */
export function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (timed out after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
