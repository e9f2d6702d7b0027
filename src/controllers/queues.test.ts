import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedQueue, QueueSet } from './queues.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a slow queue holds up only its own keys; each queue works at most so many at once', async () => {
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  const done: string[] = [];
  const queues = new QueueSet(
    async (queue, key) => {
      running.set(queue, (running.get(queue) ?? 0) + 1);
      peak.set(queue, Math.max(peak.get(queue) ?? 0, running.get(queue)!));
      await tick(queue === 'slow' ? 200 : 1);
      running.set(queue, running.get(queue)! - 1);
      done.push(key);
    },
    2,
    () => assert.fail('nothing throws'),
  );
  for (let i = 0; i < 6; i++) queues.add('slow', `slow-${i}`);
  for (let i = 0; i < 6; i++) queues.add('fast', `fast-${i}`);
  for (let i = 0; i < 200 && done.filter((d) => d.startsWith('fast')).length < 6; i++) await tick(2);
  assert.deepEqual(
    done.filter((d) => d.startsWith('fast')),
    ['fast-0', 'fast-1', 'fast-2', 'fast-3', 'fast-4', 'fast-5'],
    'in the order added',
  );
  assert.equal(done.filter((d) => d.startsWith('slow')).length, 0, 'the fast queue waited for nothing of the slow one');
  assert.equal(queues.size('slow'), 6);
  await queues.idle();
  assert.deepEqual([peak.get('slow'), peak.get('fast')], [2, 2]);
  assert.equal(done.length, 12);
});

test('a key added while it waits is worked on once; added while it is worked on, once more after', async () => {
  const seen: string[] = [];
  let release = () => {};
  const q = new KeyedQueue(
    async (key) => {
      seen.push(key);
      if (key === 'a' && seen.length === 1) await new Promise<void>((r) => (release = r));
    },
    1,
    () => assert.fail('nothing throws'),
  );
  q.add('a');
  // a is being worked on, b waits: b added three times is one key
  q.add('b');
  q.add('b');
  q.add('b');
  q.add('a');
  q.add('a');
  assert.equal(q.size, 2, 'a at work (and to be worked on again), b waiting');
  release();
  await q.idle();
  assert.deepEqual(seen, ['a', 'b', 'a']);
});

test('a key whose work throws does not stop the queue, and the throw is said', async () => {
  const seen: string[] = [];
  const said: string[] = [];
  const q = new KeyedQueue(
    async (key) => {
      seen.push(key);
      if (key === 'bad') throw new Error('refused');
    },
    1,
    (key, e) => said.push(`${key}: ${(e as Error).message}`),
  );
  q.add('bad');
  q.add('good');
  await q.idle();
  assert.deepEqual(seen, ['bad', 'good']);
  assert.deepEqual(said, ['bad: refused']);
});

test('keys added for later wait behind every other key, and one asked for again sooner moves up', async () => {
  const done: string[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const q = new KeyedQueue(
    async (key) => {
      if (key === 'busy') await gate;
      done.push(key);
    },
    1,
    () => assert.fail('nothing throws'),
  );
  q.add('busy');
  for (const k of ['recheck-a', 'recheck-b', 'recheck-c']) q.add(k, true);
  q.add('changed');
  q.add('recheck-c');
  q.add('recheck-a', true);
  release();
  await q.idle();
  assert.deepEqual(done, ['busy', 'changed', 'recheck-c', 'recheck-a', 'recheck-b']);
});
