import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { cluster, fleet, placement } from '../../test/fixtures.js';
import type { Decision } from '../core/model.js';
import { ApiClient, ApiError } from '../fleet/client.js';

import { ProblemLog } from '../problems.js';

import { type Members, RolloutController, type RolloutOptions, desiredByMember } from './rollout.js';
import { type Conflicted, type PlacementObject, RolloutBook, type RolloutWork, type Stuck } from './rolloutBook.js';
import type { PulledPlacement } from '../fleet/report.js';
import { deploymentFor } from './deployer.js';
import { FINALIZER, MANAGED_BY, PLACEMENT_LABEL } from '../names.js';

/** A member that keeps what is applied in memory, each write taking `delayMs`. */
class FakeMember extends ApiClient {
  readonly writes: { path: string; at: number }[] = [];
  readonly objects = new Map<
    string,
    { metadata: { name: string; namespace: string; uid?: string; labels?: Record<string, string>; managedFields?: { manager: string; operation?: string }[] }; spec?: unknown }
  >();
  readonly deleted: string[] = [];

  /** `gate`: every write waits for it, as a member that does not answer yet */
  constructor(private readonly gate: Promise<void> = Promise.resolve()) {
    const kc = new KubeConfig();
    // nothing listens there: the Deployment watch fails and retries, which this test does not need
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:9', skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    super(kc, 100);
  }

  /** Server-side apply as a member does it: the object made or merged, Orrery's field manager on it. */
  override async apply<T>(path: string, body: unknown, fieldManager = 'orrery'): Promise<T> {
    await this.gate;
    this.writes.push({ path, at: performance.now() });
    const o = body as { metadata: { name: string; namespace: string; labels?: Record<string, string> } };
    const uid = this.objects.get(path)?.metadata.uid ?? `uid-${this.objects.size + this.deleted.length}`;
    const stored = { ...o, metadata: { ...o.metadata, uid, managedFields: [{ manager: fieldManager, operation: 'Apply' }] } };
    this.objects.set(path, stored);
    return { ...stored, status: { readyReplicas: 0 } } as T;
  }

  /** A replace: the object as sent, its field managers cleared as `[{}]` asks. */
  override async put<T>(path: string, body: unknown): Promise<T> {
    this.writes.push({ path, at: performance.now() });
    const o = body as { metadata: { name: string; namespace: string } };
    const stored = { ...o, metadata: { ...o.metadata, managedFields: [] } };
    this.objects.set(path, stored);
    return stored as T;
  }

  override async get<T>(path: string): Promise<T> {
    const o = this.objects.get(path);
    if (o === undefined) throw new ApiError(404, `404 from member: ${path} not found`);
    return o as T;
  }

  override async applyOnly(path: string, body: unknown): Promise<void> {
    await this.apply(path, body);
  }

  override async listPages<T>(path: string, _limit: number, each: (items: T[]) => void): Promise<string> {
    const kind = path.split('?')[0]!.split('/').pop()!;
    each([...this.objects].filter(([p]) => p.includes(`/${kind}/`)).map(([, o]) => o) as T[]);
    return '1';
  }

  readonly patches: string[] = [];

  override async mergePatch<T>(path: string): Promise<T> {
    await this.gate;
    this.patches.push(path);
    return {} as T;
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

const decided = (p: PlacementObject, clusters: Record<string, number>): RolloutWork => ({
  placement: p,
  decision: {
    placement: `${p.metadata.namespace}/${p.metadata.name}`,
    clusters: Object.entries(clusters).map(([name, replicas]) => ({ name, replicas })),
    unscheduledReplicas: 0,
    reason: 'Scheduled',
    message: '',
  } satisfies Decision,
});

const controllers: RolloutController[] = [];
after(() => {
  for (const c of controllers) c.stop();
});

/** A rollout controller on a book of its own; what it tells the scheduling side goes to the callbacks given. */
function rollout(hub: ApiClient, members: Members, opts: RolloutOptions & { progressed?: (key: string) => void; conflicted?: (c: Conflicted) => void; finalized?: (key: string) => void } = {}) {
  const book = new RolloutBook();
  const { progressed, conflicted, finalized, ...rest } = opts;
  if (progressed !== undefined) book.on('progressed', progressed);
  if (conflicted !== undefined) book.on('conflicted', conflicted);
  if (finalized !== undefined) book.on('finalized', finalized);
  const c = new RolloutController(hub, members, book, rest);
  controllers.push(c);
  return Object.assign(book, { idle: () => c.idle(), pulledChanged: (member: string) => c.pulledChanged(member) });
}

const deployments = (m: FakeMember) => m.writes.filter((w) => w.path.includes('/deployments/'));

const external = (p: PlacementObject): PlacementObject => ({ ...p, spec: { ...p.spec, delivery: 'External' } });

test('the desired set: each member, the placements with replicas there; one another tool delivers, kept everywhere', () => {
  const d = desiredByMember([decided(placement('web'), { a: 2, b: 1 }), decided(placement('api', { namespace: 'shop' }), { b: 3, c: 0 }), decided(external(placement('argo')), { a: 1 })]);
  assert.deepEqual(
    [...d.byMember].map(([m, s]) => [m, [...s].sort()]),
    [
      ['a', ['default.web']],
      ['b', ['default.web', 'shop.api']],
    ],
  );
  assert.deepEqual([...d.everywhere], ['default.argo']);
});

test('a placement another tool delivers: nothing written to members, no finalizer, and what Orrery made of it before is not removed', async () => {
  const hub = new FakeMember();
  const m = new FakeMember();
  const other = new FakeMember();
  const r = rollout(hub, { memberClient: (n) => (n === 'm' ? m : other) });
  const before = decided(placement('web'), { m: 2 });
  r.want([before], fleet(cluster('m')));
  await r.idle();
  assert.equal(deployments(m).length, 1);
  const patchesBefore = hub.writes.length;
  // handed to Argo CD: a new generation that delivers externally, and the decision moves away from m
  const handed = external({ ...before.placement, metadata: { ...before.placement.metadata, generation: 2 } });
  r.want([decided(handed, { other: 3 })], fleet(cluster('m'), cluster('other')));
  await r.idle();
  r.recheck();
  await r.idle();
  assert.equal(deployments(m).length, 1, 'nothing more written');
  assert.equal(other.writes.length, 0, 'nothing written where the decision now puts it');
  assert.deepEqual(m.deleted, [], 'nothing of it removed');
  assert.equal(hub.writes.length, patchesBefore, 'no finalizer written for it');
  assert.equal(r.pending('default/web', decided(handed, { other: 3 }).decision), false, 'its status does not wait on a rollout');
  // once it is gone from the hub, what Orrery made of it is Orrery's to remove
  r.want([], fleet(cluster('m'), cluster('other')));
  await r.idle();
  assert.deepEqual(m.deleted, ['/apis/apps/v1/namespaces/default/deployments/web']);
});

test('members are written side by side without the caller waiting: a slow one holds up only itself, an unreachable one is a failure with its reason', async () => {
  let answer = () => {};
  const hub = new FakeMember();
  const fast = new FakeMember();
  const slow = new FakeMember(new Promise<void>((resolve) => (answer = resolve)));
  const members = new Map<string, ApiClient>([
    ['fast', fast],
    ['slow', slow],
  ]);
  const progressed: string[] = [];
  const r = rollout(hub, { memberClient: (n) => members.get(n) }, { perMember: 2, progressed: (key) => progressed.push(key) });
  const snapshot = fleet(cluster('fast'), cluster('slow'), { ...cluster('gone'), reachable: false, message: 'the API server does not answer' });
  const work = Array.from({ length: 6 }, (_, i) => decided(placement(`p${i}`), { fast: 1, slow: 1, ...(i === 0 ? { gone: 2 } : {}) }));
  r.want(work, snapshot);
  // the unreachable member is said at once; nothing is applied yet
  assert.deepEqual([...r.rolloutOf('default/p0', work[0]!.decision).failed], [['gone', 'the API server does not answer']]);
  assert.equal(r.pending('default/p1', work[1]!.decision), true);
  // the slow member answers nothing yet: the fast one is written all the same
  for (let i = 0; i < 100 && deployments(fast).length < 6; i++) await new Promise((t) => setTimeout(t, 5));
  assert.equal(deployments(fast).length, 6, 'every Deployment in the fast member');
  assert.equal(slow.writes.length, 0);
  assert.deepEqual([...r.rolloutOf('default/p1', work[1]!.decision).applied], ['fast']);
  answer();
  await r.idle();
  assert.equal(deployments(slow).length, 6);
  assert.deepEqual([...r.rolloutOf('default/p1', work[1]!.decision).applied].sort(), ['fast', 'slow']);
  assert.equal(r.pending('default/p1', work[1]!.decision), false);
  assert.equal(progressed.filter((k) => k === 'default/p1').length, 2, 'once a member');
  // the finalizer went on each Placement, once
  assert.equal(hub.writes.length, 6);
  assert.ok(hub.writes.every((w) => /\/placements\/p\d$/.test(w.path)));

  // nothing changed: nothing written again; one placement scaled: its two Deployments only
  const before = fast.writes.length + slow.writes.length;
  r.want(
    work.map((w) => ({ ...w })),
    snapshot,
  );
  await r.idle();
  assert.equal(fast.writes.length + slow.writes.length, before);
  const scaled = work.map((w, i) => (i === 3 ? decided({ ...w.placement, metadata: { ...w.placement.metadata, generation: 2 } }, { fast: 1, slow: 2 }) : w));
  const [f0, s0] = [fast.writes.length, slow.writes.length];
  r.want(scaled, snapshot);
  await r.idle();
  assert.deepEqual(
    [...fast.writes.slice(f0), ...slow.writes.slice(s0)].map((w) => w.path),
    ['/apis/apps/v1/namespaces/default/deployments/p3', '/apis/apps/v1/namespaces/default/deployments/p3'],
  );
  // a re-check writes again all that no watch confirms (these members have none)
  r.recheck();
  await r.idle();
  assert.equal(fast.writes.length + slow.writes.length, before + 2 + 12);
  assert.equal(hub.writes.length, 6, 'no finalizer written twice');
});

test('a write a member refuses is a failure with its reason, tried again until it takes', async () => {
  let refuse = 2;
  const m = new FakeMember();
  const apply = m.apply.bind(m);
  m.apply = async <T>(path: string, body: unknown): Promise<T> => {
    if (path.includes('/deployments/') && refuse-- > 0) throw new Error('the server is busy');
    return apply<T>(path, body);
  };
  const r = rollout(new FakeMember(), { memberClient: () => m });
  const w = decided(placement('web'), { m: 1 });
  r.want([w], fleet(cluster('m')));
  for (let i = 0; i < 100 && !r.rolloutOf('default/web', w.decision).failed.has('m'); i++) await new Promise((t) => setTimeout(t, 5));
  assert.equal(r.rolloutOf('default/web', w.decision).failed.get('m'), 'the server is busy');
  for (let i = 0; i < 400 && !r.rolloutOf('default/web', w.decision).applied.has('m'); i++) await new Promise((t) => setTimeout(t, 10));
  assert.deepEqual([...r.rolloutOf('default/web', w.decision).applied], ['m'], 'applied on the third try');
  assert.equal(r.rolloutOf('default/web', w.decision).failed.size, 0);
});

test('what a member keeps refusing is one problem of that member, named by the Placement it refused first, cleared once it takes them all', async () => {
  const refuse = new Map([
    ['web', 1],
    ['api', 2],
  ]);
  const m = new FakeMember();
  const apply = m.apply.bind(m);
  m.apply = async <T>(path: string, body: unknown): Promise<T> => {
    const name = path.split('/deployments/')[1];
    const left = name === undefined ? 0 : (refuse.get(name) ?? 0);
    if (left > 0) {
      refuse.set(name!, left - 1);
      throw new Error(`quota exceeded for ${name}`);
    }
    return apply<T>(path, body);
  };
  const said: string[] = [];
  const problems = new ProblemLog((line) => said.push(line));
  const r = rollout(new FakeMember(), { memberClient: () => m }, { perMember: 1, report: (source, problem) => problems.report(source, problem) });
  const web = decided(placement('web'), { m: 1 });
  const api = decided(placement('api'), { m: 1 });
  r.want([web, api], fleet(cluster('m')));
  for (let i = 0; i < 100 && !r.rolloutOf('default/api', api.decision).failed.has('m'); i++) await new Promise((t) => setTimeout(t, 5));
  assert.deepEqual(
    problems.current().map((p) => [p.source, p.message]),
    [['Workloads in m', 'refuses default/web: quota exceeded for web (and other Placements)']],
  );
  for (let i = 0; i < 100 && refuse.get('web')! > 0; i++) await new Promise((t) => setTimeout(t, 20));
  for (let i = 0; i < 400 && !r.rolloutOf('default/web', web.decision).applied.has('m'); i++) await new Promise((t) => setTimeout(t, 10));
  // web taken, api still refused: the problem is api's now, said once more
  assert.deepEqual(
    problems.current().map((p) => p.message),
    ['refuses default/api: quota exceeded for api'],
  );
  for (let i = 0; i < 800 && !r.rolloutOf('default/api', api.decision).applied.has('m'); i++) await new Promise((t) => setTimeout(t, 10));
  assert.deepEqual(problems.current(), []);
  assert.deepEqual(
    said.map((l) => l.replace(/(after|for) \d+ s/, '$1 N s')),
    [
      'Workloads in m: refuses default/web: quota exceeded for web',
      'Workloads in m: refuses default/web: quota exceeded for web (and other Placements) (failing for N s)',
      'Workloads in m: refuses default/api: quota exceeded for api (failing for N s)',
      'Workloads in m: recovered after N s',
    ],
  );
});

test('pruning removes what no decision wants from reachable members; a deleted Placement is let go only once every member is clean', async () => {
  const hub = new FakeMember();
  const m = new FakeMember();
  const finalized: string[] = [];
  const r = rollout(hub, { memberClient: (n) => (n === 'm' ? m : undefined) }, { finalized: (key) => finalized.push(key) });
  const snapshot = fleet(cluster('m'), { ...cluster('gone'), reachable: false });
  const web = decided(placement('web'), { m: 1 });
  const old = decided(placement('old'), { m: 1 });
  r.want([web, old], snapshot);
  await r.idle();
  // a Deployment someone else made, with Orrery's labels but no placement: left alone
  m.objects.set('/apis/apps/v1/namespaces/default/deployments/stray', { metadata: { name: 'stray', namespace: 'default', labels: { [MANAGED_BY]: 'orrery' } } });
  assert.equal(m.objects.get('/apis/apps/v1/namespaces/default/deployments/web')?.metadata.labels?.[PLACEMENT_LABEL], 'default.web');
  // old is deleted on the hub: it leaves the decisions and waits, with its finalizer, to be let go
  const deleting = { ...old.placement, metadata: { ...old.placement.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [FINALIZER] } };
  r.want([web], snapshot, [deleting]);
  await r.idle();
  assert.deepEqual(m.deleted, ['/apis/apps/v1/namespaces/default/deployments/old']);
  assert.ok(m.objects.has('/apis/apps/v1/namespaces/default/deployments/web'));
  assert.ok(m.objects.has('/apis/apps/v1/namespaces/default/deployments/stray'));
  assert.deepEqual(finalized, [], 'a member that may still run it is out of reach');
  // the inventory is whole without it: the Placement is let go
  r.want([web], fleet(cluster('m')), [deleting]);
  await r.idle();
  assert.deepEqual(finalized, ['default/old']);
  assert.ok(hub.patches.some((p) => p.endsWith('/placements/old')));
});

test('nothing is removed while the inventory is not whole', async () => {
  const m = new FakeMember();
  const r = rollout(new FakeMember(), { memberClient: () => m }, { log: () => undefined });
  r.want([decided(placement('web'), { m: 1 })], fleet(cluster('m')));
  await r.idle();
  r.want([], { ...fleet(cluster('m')), complete: false });
  await r.idle();
  assert.deepEqual(m.deleted, []);
  r.want([], fleet(cluster('m')));
  await r.idle();
  assert.deepEqual(m.deleted, ['/apis/apps/v1/namespaces/default/deployments/web']);
});

test("someone else's Deployment of the same name: nothing written there, the conflict said once, not removed when the Placement goes; IfNoDiff and Always take it over", async () => {
  const m = new FakeMember();
  const path = '/apis/apps/v1/namespaces/default/deployments/web';
  const theirs = {
    metadata: { name: 'web', namespace: 'default', uid: 'theirs', labels: { app: 'web' }, managedFields: [{ manager: 'kubectl', operation: 'Update' }] },
    spec: { selector: { matchLabels: { app: 'web' } } },
  };
  m.objects.set(path, theirs);
  const told: { cluster: string; conflicts?: readonly { object: string }[] }[] = [];
  const r = rollout(new FakeMember(), { memberClient: () => m }, { conflicted: (c) => told.push({ cluster: c.cluster, ...(c.conflicts ? { conflicts: c.conflicts } : {}) }), log: () => undefined });
  const w = decided(placement('web'), { m: 2 });
  r.want([w], fleet(cluster('m')));
  await r.idle();
  assert.deepEqual(m.writes, [], 'not even the namespace');
  assert.equal(m.objects.get(path), theirs);
  const said = r.rolloutOf('default/web', w.decision);
  assert.deepEqual([...said.conflicts], [['m', 'Deployment web exists, not made by Orrery (takeOver: Never)']]);
  assert.equal(said.applied.size + said.failed.size, 0);
  assert.equal(r.pending('default/web', w.decision), false, 'answered: a conflict');
  assert.deepEqual(told, [{ cluster: 'm', conflicts: [{ object: 'Deployment default/web', message: 'Deployment web exists, not made by Orrery (takeOver: Never)' }] }]);
  // the re-check looks again and says nothing new while it stands
  r.recheck();
  await r.idle();
  assert.equal(told.length, 1);
  // the Placement goes: theirs stays
  r.want([], fleet(cluster('m')), [{ ...w.placement, metadata: { ...w.placement.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [FINALIZER] } }]);
  await r.idle();
  assert.deepEqual(m.deleted, []);
  assert.equal(r.rolloutOf('default/web', w.decision).conflicts.size, 0, 'nothing of a Placement let go is kept');
});

test("a placement that comes to take over someone else's object: written with force, Orrery's from then on, and the conflict over", async () => {
  const m = new FakeMember();
  const path = '/apis/apps/v1/namespaces/default/deployments/web';
  m.objects.set(path, { metadata: { name: 'web', namespace: 'default', uid: 'theirs', labels: { app: 'web' }, managedFields: [{ manager: 'kubectl', operation: 'Update' }] } });
  const told: { cluster: string; conflicts?: unknown }[] = [];
  const r = rollout(new FakeMember(), { memberClient: () => m }, { conflicted: (c) => told.push({ cluster: c.cluster, ...(c.conflicts ? { conflicts: c.conflicts } : {}) }), log: () => undefined });
  const w = decided(placement('web'), { m: 2 });
  r.want([w], fleet(cluster('m')));
  await r.idle();
  assert.equal(told.length, 1);
  const p = placement('web');
  const always = decided({ ...p, metadata: { ...p.metadata, generation: 2 }, spec: { ...p.spec, takeOver: 'Always' } }, { m: 2 });
  r.want([always], fleet(cluster('m')));
  await r.idle();
  const now = m.objects.get(path)!;
  assert.equal(now.metadata.uid, 'theirs', 'the same object, taken over');
  assert.equal(now.metadata.labels?.[PLACEMENT_LABEL], 'default.web');
  assert.deepEqual([...r.rolloutOf('default/web', always.decision).applied], ['m']);
  assert.deepEqual(told.at(-1), { cluster: 'm' }, 'the conflict is over');
  // Orrery's now: it goes with the Placement
  r.want([], fleet(cluster('m')), [{ ...always.placement, metadata: { ...always.placement.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [FINALIZER] } }]);
  await r.idle();
  assert.deepEqual(m.deleted, [path]);
});

test('IfNoDiff takes over only an object that already says what Orrery would write', async () => {
  const p = { ...placement('web'), spec: { ...placement('web').spec, takeOver: 'IfNoDiff' as const } };
  const path = '/apis/apps/v1/namespaces/default/deployments/web';
  const want = deploymentFor(p, 1) as { spec: { template: { metadata: { labels: Record<string, string> } } } };
  const theirs = (spec: unknown) => ({ metadata: { name: 'web', namespace: 'default', uid: 'theirs', managedFields: [{ manager: 'kubectl', operation: 'Update' }] }, spec });
  const differs = new FakeMember();
  differs.objects.set(path, theirs({ ...want.spec, template: { ...want.spec.template, spec: { containers: [{ name: 'other' }] } } }));
  const same = new FakeMember();
  same.objects.set(path, theirs({ ...want.spec, replicas: 9, template: { ...want.spec.template, metadata: { labels: { app: 'web' } } } }));
  const members = new Map([
    ['differs', differs],
    ['same', same],
  ]);
  const r = rollout(new FakeMember(), { memberClient: (n) => members.get(n) }, { log: () => undefined });
  const w = decided(p, { differs: 1, same: 1 });
  r.want([w], fleet(cluster('differs'), cluster('same')));
  await r.idle();
  const said = r.rolloutOf('default/web', w.decision);
  assert.match(said.conflicts.get('differs') ?? '', /differs from what the placement would write at spec\.template\.spec\.containers\[0\]\.name \(takeOver: IfNoDiff\)/);
  assert.deepEqual([...said.applied], ['same']);
  assert.equal(deployments(differs).length, 0);
  assert.equal(same.objects.get(path)?.metadata.uid, 'theirs');
});

test("a member whose agent pulls: the hub writes nothing there, takes the agent's report for its rollout, moves what cannot start, and lets a deletion go once the report is clean", async () => {
  const hub = new FakeMember();
  const report: { placements: PulledPlacement[]; problem?: string } = { placements: [] };
  const progressed: string[] = [];
  const finalized: string[] = [];
  const stuck: Stuck[] = [];
  const r = rollout(
    hub,
    { memberClient: () => undefined, pulled: (n) => (n === 'p' ? report : undefined) },
    { progressed: (k) => progressed.push(k), finalized: (k) => finalized.push(k), log: () => undefined },
  );
  r.on('stuck', (x) => stuck.push(x));
  const base = placement('web');
  const web = decided({ ...base, metadata: { ...base.metadata, uid: 'u1', generation: 3, finalizers: [FINALIZER] } }, { p: 2 });
  const snapshot = fleet(cluster('p'));
  r.want([web], snapshot);
  await r.idle();
  assert.ok(progressed.includes('default/web'), 'its status is written at once: the agent acts on it');
  assert.equal(r.rolloutOf('default/web', web.decision).applied.has('p'), false, 'pending until its agent says it applied it');
  assert.equal(r.failed.size, 0, 'pending is no failure');
  const entry: PulledPlacement = { namespace: 'default', name: 'web', uid: 'u1', generation: 3, replicas: 2, readyReplicas: 1, state: 'Applied', stuckReplicas: 1 };
  // an entry for an older generation is not this one applied
  report.placements = [{ ...entry, generation: 2 }];
  r.pulledChanged('p');
  assert.equal(r.rolloutOf('default/web', web.decision).applied.has('p'), false);
  report.placements = [entry];
  r.pulledChanged('p');
  const now = r.rolloutOf('default/web', web.decision);
  assert.equal(now.applied.has('p'), true);
  assert.equal(now.ready.get('p'), 1);
  r.recheck();
  await r.idle();
  assert.deepEqual(stuck, [{ placement: 'default/web', cluster: 'p', replicas: 1 }], 'what its agent counts as stuck is moved as the hub would');
  report.placements = [{ ...entry, state: 'Failed', message: 'quota exceeded' }];
  r.pulledChanged('p');
  assert.match(r.rolloutOf('default/web', web.decision).failed.get('p') ?? '', /its agent: quota exceeded/);
  report.placements = [{ ...entry, state: 'Conflict', message: "Deployment default/web: someone else's" }];
  r.pulledChanged('p');
  assert.equal(r.conflicts.get('default/web')?.has('p'), true);
  // deleted on the hub: let go only once the agent's report no longer lists it
  const deleting = { ...web.placement, metadata: { ...web.placement.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
  r.want([], snapshot, [deleting]);
  await r.idle();
  assert.deepEqual(finalized, []);
  report.placements = [];
  r.pulledChanged('p');
  await r.idle();
  assert.deepEqual(finalized, ['default/web']);
  assert.equal(hub.writes.filter((w) => w.path.includes('/deployments/')).length, 0, 'nothing written to the member by the hub');
});
