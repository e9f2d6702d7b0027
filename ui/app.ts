// The web view: reads /v1/fleet, /v1/placements, explain and /v1/capacity/fit like any API
// client, and follows /v1/watch to refresh when the version moves. Every number shown comes
// from the API as it is; the page only lays it out.

interface Usage {
  allocatable: number;
  others: number;
  orrery: number;
  free: number;
}
interface Accelerator extends Usage {
  name: string;
  source: 'deviceClass' | 'extendedResource';
}
interface NodeGroup {
  count: number;
  cpu: number;
  memory: number;
  accelerators: { name: string; total: number }[];
}
interface ClusterView {
  name: string;
  region: string;
  zone?: string;
  healthy: boolean;
  reachable: boolean;
  schedulable: boolean;
  message?: string;
  cpu: Usage;
  memory: Usage;
  pods: Usage;
  accelerators: Accelerator[];
  nodeGroups?: NodeGroup[];
}
interface Amounts {
  total: number;
  free: number;
}
interface CapacityRow {
  name: string;
  clusters: number;
  devices: Record<string, Amounts>;
  extended: Record<string, Amounts>;
}
interface Fleet {
  mode: 'embedded' | 'cluster';
  version: number;
  generation: number;
  complete: boolean;
  clusters: ClusterView[];
  capacity: {
    regions: CapacityRow[];
    total: CapacityRow;
    deviceClasses: { deviceClassName: string; total: number; free: number }[];
    extendedResources: { resourceName: string; total: number; free: number }[];
  };
}
interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface Decision {
  placement: string;
  clusters: { name: string; replicas: number }[];
  unscheduledReplicas: number;
  reason: string;
  message?: string;
}
interface PlacementView {
  placement: { metadata: { name: string; namespace: string }; spec: { replicas: number; priority?: number }; status?: { conditions?: Condition[] } };
  decision: Decision;
}
interface Explanation {
  placement: string;
  clusters: { name: string; eligible: boolean; reason?: { code: string; plugin: string; message: string }; score?: number; scores?: Record<string, number> }[];
  weights?: Record<string, number>;
  decision?: Decision;
}
interface Fit {
  clusters: { name: string; region: string; replicas: number }[];
  total: number;
}

/** Regions of more clusters than this start collapsed, so a large fleet paints at once. */
const OPEN_UP_TO = 40;
const PLACEMENT_ROWS = 500;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

class Unauthorized extends Error {}

function token(): string | null {
  return sessionStorage.getItem('orrery-token');
}

async function api<T>(path: string): Promise<T> {
  const t = token();
  const res = await fetch(path, { headers: t ? { authorization: `Bearer ${t}` } : {} });
  if (res.status === 401) throw new Unauthorized();
  const body = (await res.json()) as T & { message?: string };
  if (!res.ok) throw new Error(body.message ?? `${path}: ${res.status}`);
  return body;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cores = (m: number) => (m / 1000).toLocaleString('en', { maximumFractionDigits: 1 });
const bytes = (b: number) => `${(b / 2 ** 30).toLocaleString('en', { maximumFractionDigits: 1 })}Gi`;
const count = (n: number) => n.toLocaleString('en');

function bar(label: string, u: Usage, unit: (n: number) => string): string {
  const pct = (n: number) => (u.allocatable > 0 ? (100 * n) / u.allocatable : 0);
  return `<div class="row"><span>${label}</span>
    <span class="bar" title="others ${unit(u.others)}, Orrery ${unit(u.orrery)}, free ${unit(u.free)} of ${unit(u.allocatable)}">
      <span class="others" style="width:${pct(u.others)}%"></span><span class="orrery" style="width:${pct(u.orrery)}%"></span><span class="free" style="width:${pct(u.free)}%"></span>
    </span><span class="num">${unit(u.free)} / ${unit(u.allocatable)} free</span></div>`;
}

function state(c: ClusterView): string {
  if (!c.reachable) return `<span class="badge bad" title="${esc(c.message ?? '')}">unreachable</span>`;
  if (!c.healthy) return `<span class="badge bad" title="${esc(c.message ?? '')}">unhealthy</span>`;
  return '<span class="badge">healthy</span>';
}

function clusterCard(c: ClusterView): string {
  const acc = c.accelerators.map((a) => `<span class="chip" data-cluster-accelerator="${esc(a.name)}">${esc(a.name)} <b>${count(a.free)}</b>/${count(a.allocatable)}</span>`).join('');
  const groups = c.nodeGroups?.length
    ? `<details class="nodegroups"><summary>${c.nodeGroups.reduce((s, g) => s + g.count, 0)} nodes in ${c.nodeGroups.length} groups</summary>${c.nodeGroups
        .map((g) => `<div>${g.count} × ${cores(g.cpu)} CPU, ${bytes(g.memory)}${g.accelerators.map((a) => `, ${a.total} ${esc(a.name)}`).join('')}</div>`)
        .join('')}</details>`
    : '';
  return `<div class="cluster" data-cluster="${esc(c.name)}"><h3><span>${esc(c.name)}</span>${state(c)}</h3>
    ${bar('CPU', c.cpu, cores)}${bar('Memory', c.memory, bytes)}${bar('Pods', c.pods, count)}
    ${acc ? `<div class="chips">${acc}</div>` : ''}${groups}</div>`;
}

function accelerators(row: CapacityRow): [string, Amounts][] {
  return [...Object.entries(row.devices), ...Object.entries(row.extended)];
}

class Page {
  private fleet: Fleet | undefined;
  private placements: PlacementView[] = [];
  private explained: string | undefined;
  private readonly opened = new Set<string>();
  private readonly closed = new Set<string>();
  private version = -1;

  async start(): Promise<void> {
    $('login').addEventListener('submit', (e) => {
      e.preventDefault();
      sessionStorage.setItem('orrery-token', $<HTMLInputElement>('token').value);
      void this.refresh().then(() => this.watch());
    });
    for (const id of ['region-filter', 'class-filter', 'name-filter']) $(id).addEventListener('input', () => this.renderClusters());
    $('placement-filter').addEventListener('input', () => this.renderPlacements());
    $('expand-all').addEventListener('click', () => this.setAll(true));
    $('collapse-all').addEventListener('click', () => this.setAll(false));
    $('placement-rows').addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('tr[data-placement]');
      if (row?.dataset.placement) void this.explain(row.dataset.placement);
    });
    $('fit-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.fit();
    });
    if (await this.refresh()) this.watch();
  }

  /** Reads everything the page shows; false when a token is needed first. */
  private async refresh(): Promise<boolean> {
    try {
      const [fleet, list] = await Promise.all([api<Fleet>('/v1/fleet'), api<{ items: PlacementView[] }>('/v1/placements')]);
      this.fleet = fleet;
      this.placements = list.items;
      this.version = fleet.version;
      $('login').hidden = true;
      $('main').hidden = false;
      this.render();
      if (this.explained !== undefined) await this.explain(this.explained, true);
      return true;
    } catch (e) {
      if (e instanceof Unauthorized) {
        $('login-error').textContent = token() ? 'that token was refused' : '';
        $('login').hidden = false;
        $('main').hidden = true;
        $('status').textContent = 'a token is needed';
        return false;
      }
      $('status').textContent = `cannot read the fleet: ${(e as Error).message}`;
      return false;
    }
  }

  /** Follows /v1/watch (read with fetch, so the token goes in a header); reconnects if it drops. */
  private watch(): void {
    const t = token();
    const live = $('live');
    void (async () => {
      try {
        const res = await fetch('/v1/watch', { headers: t ? { authorization: `Bearer ${t}` } : {} });
        if (!res.ok || res.body === null) throw new Error(String(res.status));
        live.classList.add('on');
        live.title = 'follows the fleet as it changes';
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = /^data: (.*)$/m.exec(event)?.[1];
            if (data !== undefined && (JSON.parse(data) as { version: number }).version !== this.version) await this.refresh();
          }
        }
        live.title = 'the server ended the stream: following again shortly';
      } catch (e) {
        // the server went away or restarted: say so, and try again shortly
        live.title = `not following the fleet (${(e as Error).message}): trying again`;
      }
      live.classList.remove('on');
      setTimeout(() => {
        void this.refresh().then((ok) => ok && this.watch());
      }, 2000);
    })();
  }

  private render(): void {
    const f = this.fleet as Fleet;
    const placed = this.placements.reduce((s, v) => s + v.decision.clusters.reduce((a, c) => a + c.replicas, 0), 0);
    $('status').textContent =
      `${f.mode} · ${f.clusters.length} cluster${f.clusters.length === 1 ? '' : 's'} · ${this.placements.length} placement${this.placements.length === 1 ? '' : 's'}, ${count(placed)} replica${placed === 1 ? '' : 's'} placed · generation ${f.generation}${f.complete ? '' : ' · inventory read in part'}`;
    this.renderAccelerators();
    this.fillSelects();
    this.renderClusters();
    this.renderPlacements();
  }

  private renderAccelerators(): void {
    const c = (this.fleet as Fleet).capacity;
    const names = [...c.deviceClasses.map((d) => d.deviceClassName), ...c.extendedResources.map((d) => d.resourceName)];
    if (names.length === 0) {
      $('accelerator-table').innerHTML = '<p class="muted">No accelerators in the fleet.</p>';
      return;
    }
    const cell = (a: Amounts | undefined) => (a ? `<b>${count(a.free)}</b> / ${count(a.total)}` : '<span class="muted">–</span>');
    const rows = c.regions.map((r) => {
      const m = new Map(accelerators(r));
      return `<tr data-region="${esc(r.name)}"><td>${esc(r.name)}</td>${names.map((n) => `<td class="num" data-class="${esc(n)}">${cell(m.get(n))}</td>`).join('')}</tr>`;
    });
    const total = new Map(accelerators(c.total));
    $('accelerator-table').innerHTML = `<table><thead><tr><th>Region</th>${names.map((n) => `<th class="num">${esc(n)}</th>`).join('')}</tr></thead>
      <tbody>${rows.join('')}</tbody>
      <tfoot><tr id="accelerator-total"><th>All regions</th>${names.map((n) => `<th class="num" data-class="${esc(n)}">${cell(total.get(n))}</th>`).join('')}</tr></tfoot></table>`;
  }

  private fillSelects(): void {
    const f = this.fleet as Fleet;
    const regions = [...new Set(f.clusters.map((c) => c.region))].sort();
    const classes = [...f.capacity.deviceClasses.map((d) => d.deviceClassName), ...f.capacity.extendedResources.map((d) => d.resourceName)];
    const fill = (select: HTMLSelectElement, first: string, values: string[], label = (v: string) => v) => {
      const keep = select.value;
      select.innerHTML = `<option value="">${first}</option>${values.map((v) => `<option value="${esc(v)}">${esc(label(v))}</option>`).join('')}`;
      select.value = values.includes(keep) ? keep : '';
    };
    fill($<HTMLSelectElement>('region-filter'), 'all', regions);
    fill($<HTMLSelectElement>('class-filter'), 'any', classes);
    const form = $<HTMLFormElement>('fit-form');
    fill(form.elements.namedItem('region') as HTMLSelectElement, 'any', regions);
    const isExtended = new Set(f.capacity.extendedResources.map((d) => d.resourceName));
    fill(form.elements.namedItem('accelerator') as HTMLSelectElement, 'none', classes, (v) => (isExtended.has(v) ? `${v} (device plugin)` : v));
  }

  private shownClusters(): Map<string, ClusterView[]> {
    const region = $<HTMLSelectElement>('region-filter').value;
    const cls = $<HTMLSelectElement>('class-filter').value;
    const name = $<HTMLInputElement>('name-filter').value.trim().toLowerCase();
    const byRegion = new Map<string, ClusterView[]>();
    for (const c of (this.fleet as Fleet).clusters) {
      if (region && c.region !== region) continue;
      if (cls && !c.accelerators.some((a) => a.name === cls)) continue;
      if (name && !c.name.toLowerCase().includes(name)) continue;
      const list = byRegion.get(c.region) ?? [];
      list.push(c);
      byRegion.set(c.region, list);
    }
    return new Map([...byRegion].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }

  private isOpen(region: string, total: number): boolean {
    if (this.opened.has(region)) return true;
    if (this.closed.has(region)) return false;
    return total <= OPEN_UP_TO;
  }

  private renderClusters(): void {
    const shown = this.shownClusters();
    const total = [...shown.values()].reduce((s, l) => s + l.length, 0);
    const container = $('regions');
    // A region's free accelerators as the capacity report sums them: one source of numbers.
    const sums = new Map((this.fleet as Fleet).capacity.regions.map((r) => [r.name, accelerators(r)]));
    container.innerHTML =
      [...shown]
        .map(([region, list]) => {
          const bad = list.filter((c) => !c.schedulable).length;
          const free = (sums.get(region) ?? []).map(([n, a]) => [n, a.free] as const);
          const open = this.isOpen(region, total);
          return `<details class="region" data-region="${esc(region)}"${open ? ' open' : ''}><summary><b>${esc(region)}</b>
          <span>${list.length} cluster${list.length === 1 ? '' : 's'}</span>${bad ? `<span class="error">${bad} not taking replicas</span>` : ''}
          <span class="muted">${free.map(([n, v]) => `${count(v)} ${esc(n)} free`).join(', ')}</span></summary>
          <div class="clusters">${open ? list.map(clusterCard).join('') : ''}</div></details>`;
        })
        .join('') || '<p class="muted">No cluster matches.</p>';
    for (const d of container.querySelectorAll<HTMLDetailsElement>('details.region')) {
      d.addEventListener('toggle', () => {
        const region = d.dataset.region as string;
        (d.open ? this.opened : this.closed).add(region);
        (d.open ? this.closed : this.opened).delete(region);
        const inner = d.querySelector('.clusters') as HTMLElement;
        // Cards are drawn when a region is opened: a thousand clusters paint only their regions.
        if (d.open && inner.childElementCount === 0) inner.innerHTML = (shown.get(region) ?? []).map(clusterCard).join('');
      });
    }
  }

  private setAll(open: boolean): void {
    for (const d of $('regions').querySelectorAll<HTMLDetailsElement>('details.region')) d.open = open;
  }

  private renderPlacements(): void {
    const filter = $<HTMLInputElement>('placement-filter').value.trim().toLowerCase();
    const shown = this.placements.filter((v) => !filter || v.decision.placement.toLowerCase().includes(filter));
    $('placement-count').textContent = shown.length > PLACEMENT_ROWS ? `first ${PLACEMENT_ROWS} of ${shown.length}` : `${shown.length} shown`;
    $('placement-rows').innerHTML = shown
      .slice(0, PLACEMENT_ROWS)
      .map((v) => {
        const d = v.decision;
        const placed = d.clusters.reduce((s, c) => s + c.replicas, 0);
        const where = d.clusters.length
          ? d.clusters.map((c) => `<span class="chip" data-where="${esc(c.name)}">${esc(c.name)} × ${c.replicas}</span>`).join('')
          : '<span class="chip none">nowhere</span>';
        const conditions = v.placement.status?.conditions?.length
          ? v.placement.status.conditions.map((c) => `<div title="${esc(c.message)}">${esc(c.type)}=${esc(c.status)} <span class="muted">${esc(c.reason)}</span></div>`).join('')
          : `<div title="${esc(d.message ?? '')}">${esc(d.reason)}${d.message ? ` <span class="muted">${esc(d.message)}</span>` : ''}</div>`;
        // data-label: what a narrow screen, which stacks the cells, says before each
        return `<tr class="placement${this.explained === d.placement ? ' open' : ''}" data-placement="${esc(d.placement)}"><td class="name">${esc(d.placement)}</td><td class="num" data-label="Priority">${v.placement.spec.priority ?? 0}</td>
          <td class="num" data-field="asked" data-label="Asked">${v.placement.spec.replicas}</td><td class="num" data-field="placed" data-label="Placed">${placed}</td><td class="num" data-field="unscheduled" data-label="Unscheduled">${d.unscheduledReplicas}</td>
          <td data-label="Where"><div class="chips">${where}</div></td><td data-label="Condition">${conditions}</td></tr>`;
      })
      .join('');
  }

  private async explain(key: string, quiet = false): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const panel = $('explain');
    try {
      const e = await api<Explanation>(`/v1/namespaces/${encodeURIComponent(ns)}/placements/${encodeURIComponent(name)}/explain`);
      this.explained = key;
      const weights = Object.entries(e.weights ?? {})
        .map(([k, w]) => `${esc(k)} ×${w}`)
        .join(', ');
      const rows = e.clusters.map((c) => {
        const placed = e.decision?.clusters.find((x) => x.name === c.name)?.replicas ?? 0;
        const why = c.eligible
          ? `score <b>${c.score?.toFixed(1) ?? '–'}</b> <span class="muted">${Object.entries(c.scores ?? {})
              .map(([k, v]) => `${esc(k)} ${v.toFixed(1)}`)
              .join(', ')}</span>`
          : `<span class="error" data-refused-by="${esc(c.reason?.plugin ?? '')}">refused by ${esc(c.reason?.plugin ?? '?')}</span>: ${esc(c.reason?.message ?? '')}`;
        return `<tr data-explain-cluster="${esc(c.name)}"><td>${esc(c.name)}</td><td class="num">${placed || ''}</td><td>${why}</td></tr>`;
      });
      panel.innerHTML = `<h3>Explain ${esc(key)}</h3>${weights ? `<p class="muted">weights: ${weights}</p>` : ''}
        <table><thead><tr><th>Cluster</th><th class="num">Replicas</th><th>Filter or scores</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
      panel.hidden = false;
      for (const r of $('placement-rows').querySelectorAll('tr.placement')) r.classList.toggle('open', (r as HTMLElement).dataset.placement === key);
    } catch (err) {
      if (!quiet) {
        panel.hidden = false;
        panel.innerHTML = `<p class="error">cannot explain ${esc(key)}: ${esc((err as Error).message)}</p>`;
      }
    }
  }

  private async fit(): Promise<void> {
    const form = $<HTMLFormElement>('fit-form');
    const field = (n: string) => (form.elements.namedItem(n) as HTMLInputElement).value.trim();
    const q = new URLSearchParams();
    if (field('cpu')) q.set('cpu', field('cpu'));
    if (field('memory')) q.set('memory', field('memory'));
    const acc = field('accelerator');
    if (acc) {
      const extended = (this.fleet as Fleet).capacity.extendedResources.some((d) => d.resourceName === acc);
      q.set(extended ? 'resourceName' : 'deviceClass', acc);
      q.set('devices', field('devices') || '1');
    }
    if (field('region')) q.set('region', field('region'));
    const out = $('fit-answer');
    try {
      const fit = await api<Fit>(`/v1/capacity/fit?${q}`);
      const rows = fit.clusters.map((c) => `<tr data-fit-cluster="${esc(c.name)}"><td>${esc(c.name)}</td><td>${esc(c.region)}</td><td class="num">${count(c.replicas)}</td></tr>`);
      out.innerHTML = `<p><b id="fit-total">${count(fit.total)}</b> replicas fit now.</p>
        <table><thead><tr><th>Cluster</th><th>Region</th><th class="num">Replicas</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
    } catch (err) {
      out.innerHTML = `<p class="error" id="fit-error">${esc((err as Error).message)}</p>`;
    }
  }
}

void new Page().start();
