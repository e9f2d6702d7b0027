import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiClient, ApiError } from '../fleet/client.js';
import { PullRollout } from './pull.js';

/** Nothing listens at this address: watches fail; lists answer as `answer` says. */
class Fake extends ApiClient {
  constructor(private readonly answer: (path: string) => unknown[] | ApiError) {
    super({ getCurrentCluster: () => ({ server: 'https://127.0.0.1:9' }), applyToHTTPSOptions: async () => undefined }, 100);
  }

  override async listPages<T>(path: string, _limit: number, each: (items: T[]) => void): Promise<string> {
    const a = this.answer(path);
    if (a instanceof ApiError) throw a;
    each(a as T[]);
    return '1';
  }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

test("what keeps the agent from carrying decisions out is in its report: the hub's Placements, or its own Deployments", async () => {
  const hub = new Fake(() => []);
  const member = new Fake((path) => (path.includes('/deployments') ? new ApiError(403, 'deployments.apps is forbidden') : []));
  let told = 0;
  const pull = new PullRollout(hub, member, 'm', () => told++);
  pull.start();
  await until(() => pull.problem() !== undefined);
  pull.stop();
  assert.match(pull.problem() ?? '', /^watching Orrery's Deployments in the member: deployments\.apps is forbidden/);
  assert.ok(told > 0, 'the report is told');

  const blind = new PullRollout(new Fake((path) => (path.includes('/placements') ? new ApiError(403, 'placements is forbidden') : [])), new Fake(() => []), 'm', () => undefined);
  blind.start();
  await until(() => blind.problem() !== undefined);
  blind.stop();
  assert.match(blind.problem() ?? '', /^listing Placements on the hub: placements is forbidden/);
  assert.deepEqual(blind.state(), [], 'nothing applied or removed while the decisions cannot be read');
});
