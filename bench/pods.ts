// How many of a member's Pods a mirror's heap holds per MiB: whole Pods (managedFields dropped)
// against what a mirror keeps of each, its usage of its node. Run with --expose-gc:
//   node --expose-gc dist/bench/pods.js [N]
// Prints one JSON object.

import type { PodObject } from '../src/fleet/measure.js';
import { podUsage } from '../src/fleet/summary.js';

const n = Number(process.argv[2] ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('run with --expose-gc\n');
  process.exit(2);
}

/** A Pod as an API server lists it for a small Deployment replica (no managedFields). */
function podJson(i: number): string {
  const name = `web-7d9c6b5f4-${i.toString(36).padStart(5, 'x')}`;
  return JSON.stringify({
    metadata: {
      name,
      generateName: 'web-7d9c6b5f4-',
      namespace: `team-${i % 40}`,
      uid: `0b3c${i.toString(16).padStart(8, '0')}-1f2e-4d5c-9a8b-7c6d5e4f3a2b`,
      resourceVersion: String(1_000_000 + i),
      creationTimestamp: '2026-11-25T10:00:00Z',
      labels: { app: 'web', 'pod-template-hash': '7d9c6b5f4', 'app.kubernetes.io/part-of': 'shop' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-20T08:00:00Z' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9c6b5f4', uid: '9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      volumes: [
        {
          name: 'kube-api-access-abcde',
          projected: {
            sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }],
            defaultMode: 420,
          },
        },
      ],
      containers: [
        {
          name: 'web',
          image: 'registry.example.com/shop/web:2.14.3',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
          ],
          resources: { limits: { memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } },
          volumeMounts: [{ name: 'kube-api-access-abcde', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
          readinessProbe: { httpGet: { path: '/readyz', port: 'http', scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      nodeName: `node-${i % 500}`,
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: 'Running',
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: '2026-11-25T10:00:05Z',
      })),
      hostIP: '10.0.3.17',
      podIP: `10.244.${i % 250}.${i % 200}`,
      podIPs: [{ ip: `10.244.${i % 250}.${i % 200}` }],
      startTime: '2026-11-25T10:00:01Z',
      containerStatuses: [
        {
          name: 'web',
          state: { running: { startedAt: '2026-11-25T10:00:03Z' } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image: 'registry.example.com/shop/web:2.14.3',
          imageID: 'registry.example.com/shop/web@sha256:4f6c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b',
          containerID: 'containerd://8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b',
          started: true,
        },
      ],
      qosClass: 'Burstable',
    },
  });
}

function heapFor(keep: (p: PodObject) => unknown): number {
  gc!();
  const before = process.memoryUsage().heapUsed;
  const store = new Map<string, unknown>();
  for (let i = 0; i < n; i++) {
    const p = JSON.parse(podJson(i)) as PodObject & { metadata: { uid: string } };
    store.set(p.metadata.uid, keep(p));
  }
  gc!();
  const used = process.memoryUsage().heapUsed - before;
  if (store.size !== n) throw new Error('lost pods');
  return used;
}

const whole = heapFor((p) => p);
const view = heapFor((p) => podUsage(p));
const perMiB = (bytes: number) => Math.round((n * 2 ** 20) / bytes);
process.stdout.write(`${JSON.stringify({ pods: n, bytesPerPod: { whole: Math.round(whole / n), usage: Math.round(view / n) }, podsPerMiB: { whole: perMiB(whole), usage: perMiB(view) } })}\n`);
