import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachLimit, inQueues } from './queues.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a slow queue holds up only its own tasks; each queue runs at most so many at once', async () => {
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  const done: string[] = [];
  const task = (queue: string, id: string, ms: number) => ({
    queue,
    run: async () => {
      running.set(queue, (running.get(queue) ?? 0) + 1);
      peak.set(queue, Math.max(peak.get(queue) ?? 0, running.get(queue)!));
      await tick(ms);
      running.set(queue, running.get(queue)! - 1);
      done.push(id);
      return id;
    },
  });
  const tasks = [
    ...Array.from({ length: 6 }, (_, i) => task('slow', `slow-${i}`, 200)),
    ...Array.from({ length: 6 }, (_, i) => task('fast', `fast-${i}`, 1)),
  ];
  const results = inQueues(tasks, 2);
  const fast = await Promise.all(results.slice(6));
  assert.deepEqual(fast, ['fast-0', 'fast-1', 'fast-2', 'fast-3', 'fast-4', 'fast-5'], 'answers in the order given');
  assert.ok(done.filter((d) => d.startsWith('slow')).length <= 2, `fast work waited for the slow member: ${done}`);
  await Promise.all(results);
  assert.deepEqual([peak.get('slow'), peak.get('fast')], [2, 2]);
});

test('a task that fails rejects its own promise and no other', async () => {
  const results = inQueues([
    { queue: 'm', run: async () => { throw new Error('refused'); } },
    { queue: 'm', run: async () => 'ok' },
  ], 1);
  await assert.rejects(results[0]!, /refused/);
  assert.equal(await results[1], 'ok');
});

test('forEachLimit keeps to its limit and does everything', async () => {
  let running = 0;
  let peak = 0;
  const seen: number[] = [];
  await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await tick(5);
    seen.push(n);
    running--;
  });
  assert.equal(peak, 3);
  assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6, 7]);
});

