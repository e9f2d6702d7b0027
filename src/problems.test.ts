import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProblemLog } from './problems.js';

test('a failure is logged when it starts, every 30 s while it lasts, and when it clears', () => {
  let now = 1_000_000;
  const lines: string[] = [];
  const log = new ProblemLog(
    (m) => lines.push(m),
    () => now,
  );
  log.fail('hub', 'connection refused');
  now += 10_000;
  log.fail('hub', 'connection refused');
  assert.deepEqual(lines, ['hub: connection refused']);
  now += 21_000;
  log.fail('hub', 'connection refused');
  assert.equal(lines[1], 'hub: connection refused (failing for 31 s)');
  now += 1000;
  log.fail('hub', '403 forbidden');
  assert.equal(lines[2], 'hub: 403 forbidden (failing for 32 s)', 'a new cause is said at once');
  assert.deepEqual(log.current(), [{ source: 'hub', message: '403 forbidden', since: 1_000_000 }]);
  now += 3000;
  log.ok('hub');
  assert.equal(lines[3], 'hub: recovered after 35 s');
  assert.deepEqual(log.current(), []);
  log.ok('hub');
  assert.equal(lines.length, 4, 'success without a failure says nothing');
});

test('problems are listed by source', () => {
  const log = new ProblemLog(
    () => undefined,
    () => 5,
  );
  log.report('member b', 'x');
  log.report('member a', 'y');
  log.report('member c', undefined);
  assert.deepEqual(
    log.current().map((p) => p.source),
    ['member a', 'member b'],
  );
  log.forget('member a');
  assert.deepEqual(
    log.current().map((p) => p.source),
    ['member b'],
  );
});
