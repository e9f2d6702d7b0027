import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WATCH_RETRY, WRITE_RETRY, retryDelay } from './backoff.js';

test('a retry waits twice as long after each failure in a row, up to a ceiling', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 50].map((n) => retryDelay(n, WRITE_RETRY)),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
  );
  assert.deepEqual(
    [1, 2, 5, 6, 1000].map((n) => retryDelay(n, WATCH_RETRY)),
    [200, 400, 3200, 5000, 5000],
  );
});
