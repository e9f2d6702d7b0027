import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { cluster, fleet, placement } from '../../test/fixtures.js';
import type { Decision, Placement } from '../core/model.js';
import { ApiClient, type ListResult } from '../fleet/client.js';
import { MANAGED_BY } from './deployer.js';
import { PLACEMENT_LABEL } from '../fleet/measure.js';
import { RolloutController, type RolloutWork, desiredByMember } from './rollout.js';

/** A member that keeps what is applied in memory, each write taking `delayMs`. */
class FakeMember extends ApiClient {
  readonly writes: { path: string; at: number }[] = [];
  readonly objects = new Map<string, { metadata: { name: string; namespace: string; labels?: Record<string, string> } }>();
  readonly deleted: string[] = [];

  /** `gate`: every write waits for it, as a member that does not answer yet */
  constructor(private readonly gate: Promise<void> = Promise.resolve()) {
    const kc = new KubeConfig();
    // nothing listens there: the Deployment watch fails and retries, which this test does not need
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:9', skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    super(kc, 100);
  }

  override async apply<T>(path: string, body: unknown): Promise<T> {
    await this.gate;
    this.writes.push({ path, at: performance.now() });
    this.objects.set(path, body as never);
    return { status: { readyReplicas: 0 } } as T;
  }

  override async list<T>(path: string): Promise<ListResult<T>> {
    const kind = path.split('?')[0]!.split('/').pop()!;
    const items = [...this.objects].filter(([p]) => p.includes(`/${kind}/`)).map(([, o]) => o);
    return { items: items as T[], resourceVersion: '1' };
  }

  override async delete<T>(path: string): Promise<T> {
    this.deleted.push(path);
    this.objects.delete(path);
    return {} as T;
  }

  override async serves(): Promise<boolean> {
    return false;
  }
}

const decided = (p: Placement, clusters: Record<string, number>): RolloutWork => ({
  placement: p,
  decision: { placement: `${p.metadata.namespace}/${p.metadata.name}`, clusters: Object.entries(clusters).map(([name, replicas]) => ({ name, replicas })), unscheduledReplicas: 0, reason: 'Scheduled', message: '' } satisfies Decision,
});

const controllers: RolloutController[] = [];
after(() => {
  for (const c of controllers) c.stop();
});

test('the desired set: each member, the placements with replicas there', () => {
  const d = desiredByMember([decided(placement('web'), { a: 2, b: 1 }), decided(placement('api', { namespace: 'shop' }), { b: 3, c: 0 })]);
  assert.deepEqual([...d].map(([m, s]) => [m, [...s].sort()]), [['a', ['default.web']], ['b', ['default.web', 'shop.api']]]);
});

test('members are written side by side: a slow one holds up only itself, an unreachable one is a failure with its reason', async () => {
  let answer = () => {};
  const fast = new FakeMember();
  const slow = new FakeMember(new Promise<void>((resolve) => (answer = resolve)));
  const members = new Map<string, ApiClient>([['fast', fast], ['slow', slow]]);
  const r = new RolloutController({ memberClient: (n) => members.get(n) }, { perMember: 2 });
  controllers.push(r);
  const snapshot = fleet(cluster('fast'), cluster('slow'), { ...cluster('gone'), reachable: false, message: 'the API server does not answer' });
  const work = Array.from({ length: 6 }, (_, i) => decided(placement(`p${i}`), { fast: 1, slow: 1, ...(i === 0 ? { gone: 2 } : {}) }));
  const carried = r.carryOut(work, snapshot, false);
  // the slow member answers nothing yet: the fast one is written all the same
  for (let i = 0; i < 100 && fast.writes.filter((w) => w.path.includes('/deployments/')).length < 6; i++) await new Promise((t) => setTimeout(t, 5));
  assert.equal(fast.writes.filter((w) => w.path.includes('/deployments/')).length, 6, 'every Deployment in the fast member');
  assert.equal(slow.writes.length, 0);
  answer();
  const { rollouts } = await carried;
  assert.equal(slow.writes.filter((w) => w.path.includes('/deployments/')).length, 6);

  assert.deepEqual([...rollouts.get('default/p0')!.failed], [['gone', 'the API server does not answer']]);
  assert.deepEqual([...rollouts.get('default/p1')!.applied].sort(), ['fast', 'slow']);

  // nothing changed: nothing written again; one placement scaled: its two Deployments only
  const before = fast.writes.length + slow.writes.length;
  await r.carryOut(work, snapshot, false);
  assert.equal(fast.writes.length + slow.writes.length, before);
  const scaled = work.map((w, i) => (i === 3 ? decided({ ...w.placement, metadata: { ...w.placement.metadata, generation: 2 } }, { fast: 1, slow: 2 }) : w));
  const [f0, s0] = [fast.writes.length, slow.writes.length];
  await r.carryOut(scaled, snapshot, false);
  assert.deepEqual([...fast.writes.slice(f0), ...slow.writes.slice(s0)].map((w) => w.path), ['/apis/apps/v1/namespaces/default/deployments/p3', '/apis/apps/v1/namespaces/default/deployments/p3']);
  // a full pass writes everything again
  await r.carryOut(scaled, snapshot, true);
  assert.equal(fast.writes.length + slow.writes.length, before + 2 + 12);
});

test('pruning removes what no decision wants from reachable members, and says which it could not reach', async () => {
  const m = new FakeMember();
  const r = new RolloutController({ memberClient: (n) => (n === 'm' ? m : undefined) });
  controllers.push(r);
  const snapshot = fleet(cluster('m'), { ...cluster('gone'), reachable: false });
  const web = decided(placement('web'), { m: 1 });
  const old = decided(placement('old'), { m: 1 });
  await r.carryOut([web, old], snapshot, false);
  // a Deployment someone else made, with Orrery's labels but no placement: left alone
  m.objects.set('/apis/apps/v1/namespaces/default/deployments/stray', { metadata: { name: 'stray', namespace: 'default', labels: { [MANAGED_BY]: 'orrery' } } });
  for (const o of m.objects.values()) assert.ok(o.metadata.labels === undefined || o.metadata.labels[MANAGED_BY] === 'orrery');
  const left = r.leftBehind([web]);
  assert.deepEqual(left, ['default/old|m']);
  const unreachable = await r.prune(snapshot, desiredByMember([web]), left);
  assert.deepEqual([...unreachable], ['gone']);
  assert.deepEqual(m.deleted, ['/apis/apps/v1/namespaces/default/deployments/old']);
  assert.ok(m.objects.has('/apis/apps/v1/namespaces/default/deployments/web'));
  assert.equal(m.objects.get('/apis/apps/v1/namespaces/default/deployments/web')?.metadata.labels?.[PLACEMENT_LABEL], 'default.web');
  // with a member unreachable, what was applied is still remembered as left behind
  assert.deepEqual(r.leftBehind([web]), ['default/old|m']);
  const all = fleet(cluster('m'));
  await r.prune(all, desiredByMember([web]), left);
  assert.deepEqual(r.leftBehind([web]), []);
});
