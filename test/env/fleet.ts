// A real fleet on loopback: one etcd, a hub (API server + controller manager) and members
// (API server + controller manager + scheduler), each API server with its own etcd prefix.
// Members are real clusters without kubelets: Deployments make Pods and the scheduler binds
// them to Node objects the tests create.

import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Endpoint, call, eventually } from './kube.js';
import { Managed } from './processes.js';

export const KUBE_VERSION = process.env.ORRERY_KUBE_VERSION ?? '1.34.4';
const ROOT = join(import.meta.dirname, '..', '..', '..');

export function envtestDir(): string {
  return process.env.ORRERY_ENVTEST_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'orrery', 'envtest', `v${KUBE_VERSION}`);
}

/** Builds the binaries on first use (minutes), then reuses them. */
export function ensureBinaries(): string {
  const r = spawnSync('bash', [join(ROOT, 'test', 'setup', 'build-control-plane.sh')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the control-plane binaries failed (see the output above)');
  return envtestDir();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export type User = 'admin' | 'alice' | 'bob';

export interface ClusterHandle {
  readonly name: string;
  readonly server: string;
  /** the API server's serving certificate, PEM */
  ca(): string;
  endpoint(user?: User): Endpoint;
  kubeconfig(user?: User): string;
  /** runs kubectl against this cluster; returns its output, throws with stderr on failure */
  kubectl(args: readonly string[], user?: User, input?: string): { code: number; stdout: string; stderr: string };
}

export class ControlPlane implements ClusterHandle {
  readonly apiserver: Managed;
  readonly others: Managed[] = [];
  readonly server: string;
  private readonly tokens: Record<User, string>;

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    bin: string,
    etcdUrl: string,
    shared: { saKey: string; saPub: string },
    tokens: Record<User, string>,
    /** the controllers beside the API server: a hub's, a member's (with the scheduler), or none */
    controllers: 'hub' | 'member' | 'none',
  ) {
    this.server = `https://127.0.0.1:${port}`;
    this.tokens = tokens;
    mkdirSync(join(dir, 'certs'), { recursive: true });
    writeFileSync(join(dir, 'tokens.csv'), `${[`${tokens.admin},admin,admin-uid,"system:masters"`, `${tokens.alice},alice,alice-uid`, `${tokens.bob},bob,bob-uid`].join('\n')}\n`);
    this.apiserver = new Managed(
      `${name}/kube-apiserver`,
      join(bin, 'kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        `--etcd-prefix=/${name}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${port}`,
        `--cert-dir=${join(dir, 'certs')}`,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        `--service-account-key-file=${shared.saPub}`,
        `--service-account-signing-key-file=${shared.saKey}`,
        '--service-account-issuer=https://kubernetes.default.svc',
        '--service-cluster-ip-range=10.96.0.0/16',
        // Pods would wait for the default ServiceAccount that the controller manager creates.
        '--disable-admission-plugins=ServiceAccount',
        '--profiling=false',
      ],
      join(dir, 'kube-apiserver.log'),
    );
    if (controllers !== 'none')
      this.others.push(
        new Managed(
          `${name}/kube-controller-manager`,
          join(bin, 'kube-controller-manager'),
          [
            `--kubeconfig=${join(dir, 'admin.kubeconfig')}`,
            '--leader-elect=false',
            '--controllers=*,-nodelifecycle',
            `--service-account-private-key-file=${shared.saKey}`,
            '--secure-port=0',
            '--concurrent-deployment-syncs=10',
            '--concurrent-replicaset-syncs=10',
            // a hub's HorizontalPodAutoscalers drive Placements: a test should not wait 15 s a step
            ...(controllers === 'hub' ? ['--horizontal-pod-autoscaler-sync-period=1s'] : []),
          ],
          join(dir, 'kube-controller-manager.log'),
        ),
      );
    if (controllers === 'member') {
      this.others.push(
        new Managed(
          `${name}/kube-scheduler`,
          join(bin, 'kube-scheduler'),
          [`--kubeconfig=${join(dir, 'admin.kubeconfig')}`, '--leader-elect=false', '--secure-port=0'],
          join(dir, 'kube-scheduler.log'),
        ),
      );
    }
  }

  ca(): string {
    return readFileSync(join(this.dir, 'certs', 'apiserver.crt'), 'utf8');
  }

  endpoint(user: User = 'admin'): Endpoint {
    return { server: this.server, ca: this.ca(), token: this.tokens[user] };
  }

  kubeconfig(user: User = 'admin'): string {
    return join(this.dir, `${user}.kubeconfig`);
  }

  private writeKubeconfigs(): void {
    const ca = Buffer.from(this.ca()).toString('base64');
    for (const user of ['admin', 'alice', 'bob'] as const) {
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: this.name, cluster: { server: this.server, 'certificate-authority-data': ca } }],
        users: [{ name: user, user: { token: this.tokens[user] } }],
        contexts: [{ name: this.name, context: { cluster: this.name, user } }],
        'current-context': this.name,
      };
      writeFileSync(this.kubeconfig(user), JSON.stringify(config, null, 2));
    }
  }

  kubectl(args: readonly string[], user: User = 'admin', input?: string) {
    const r = spawnSync('kubectl', ['--kubeconfig', this.kubeconfig(user), ...args], { encoding: 'utf8', input, timeout: 30_000 });
    return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
  }

  async startApiServer(): Promise<void> {
    this.apiserver.start();
    await eventually(
      `${this.name} API server /readyz`,
      async () => {
        if (!this.apiserver.alive) throw new Error(`${this.name} API server exited:\n${this.apiserver.tail()}`);
        if (!existsSync(join(this.dir, 'certs', 'apiserver.crt'))) return undefined;
        const r = await call<string>(this.endpoint(), 'GET', '/readyz').catch(() => undefined);
        return r === undefined ? undefined : true;
      },
      60_000,
      200,
    );
    this.writeKubeconfigs();
  }

  async start(): Promise<void> {
    await this.startApiServer();
    for (const p of this.others) p.start();
  }

  async stopApiServer(): Promise<void> {
    await this.apiserver.stop(2000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.others.map((p) => p.stop(2000)));
    await this.apiserver.stop(2000);
  }
}

export interface FleetOptions {
  readonly members?: number;
  /**
   * Members as API servers alone, without the controllers that turn Deployments into Pods:
   * what the bench uses to tell Orrery's own pace from that of the members' controllers.
   */
  readonly membersWithoutControllers?: boolean;
}

export class TestFleet {
  private constructor(
    readonly dir: string,
    private readonly etcd: Managed,
    readonly hub: ControlPlane,
    readonly members: readonly ControlPlane[],
  ) {}

  static async start(opts: FleetOptions = {}): Promise<TestFleet> {
    const bin = ensureBinaries();
    const dir = mkdtempSync(join(tmpdir(), 'orrery-fleet-'));
    const [etcdPort, peerPort] = [await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = new Managed(
      'etcd',
      join(bin, 'etcd'),
      [
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      join(dir, 'etcd.log'),
    );
    etcd.start();

    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const shared = { saKey: join(dir, 'sa.key'), saPub: join(dir, 'sa.pub') };
    writeFileSync(shared.saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }));
    writeFileSync(shared.saPub, publicKey.export({ type: 'spki', format: 'pem' }));
    const token = () => randomBytes(24).toString('hex');

    const plane = async (name: string, controllers: 'hub' | 'member' | 'none') =>
      new ControlPlane(name, join(dir, name), await freePort(), bin, etcdUrl, shared, { admin: token(), alice: token(), bob: token() }, controllers);
    const hub = await plane('hub', 'hub');
    const members: ControlPlane[] = [];
    for (let i = 1; i <= (opts.members ?? 3); i++) members.push(await plane(`member-${i}`, opts.membersWithoutControllers === true ? 'none' : 'member'));
    const fleet = new TestFleet(dir, etcd, hub, members);
    try {
      await Promise.all([hub, ...members].map((p) => p.start()));
    } catch (e) {
      await fleet.stop();
      throw e;
    }
    return fleet;
  }

  member(name: string): ControlPlane {
    const m = this.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  /** API servers before etcd: an API server whose etcd is gone hangs on a graceful stop. */
  async stop(): Promise<void> {
    await Promise.all([this.hub, ...this.members].map((p) => p.stop()));
    await this.etcd.stop(2000);
    if (process.env.ORRERY_KEEP_FLEET === undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}
