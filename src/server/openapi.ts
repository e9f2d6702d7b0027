// The OpenAPI document, made from the routes' own schemas as they are registered, and a page
// that lists every operation for a person with a browser.

import type { FastifyInstance, RouteOptions } from 'fastify';

declare module 'fastify' {
  interface FastifySchema {
    summary?: string;
    /** left out of the document (probes, the document itself) */
    hide?: boolean;
  }
}

interface Operation {
  method: string;
  path: string;
  summary: string;
  schema: NonNullable<RouteOptions['schema']>;
}

export class OpenApi {
  private readonly operations: Operation[] = [];

  /** Call before routes are registered: records each one. */
  collect(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      const schema = route.schema ?? {};
      if (schema.hide) return;
      for (const method of [route.method].flat()) {
        if (method === 'HEAD') continue;
        this.operations.push({ method: method.toLowerCase(), path: route.url.replace(/:(\w+)/g, '{$1}'), summary: schema.summary ?? '', schema });
      }
    });
  }

  document(version: string): object {
    const paths: Record<string, Record<string, object>> = {};
    for (const op of this.operations) {
      const s = op.schema as { params?: { properties?: Record<string, object> }; querystring?: { properties?: Record<string, object> }; body?: object; response?: Record<string, object> };
      const parameters = [
        ...Object.entries(s.params?.properties ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
        ...Object.entries(s.querystring?.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema, description: (schema as { description?: string }).description })),
      ];
      const responses: Record<string, object> = {};
      for (const [code, schema] of Object.entries(s.response ?? { 200: {} })) responses[code] = { description: code, content: { 'application/json': { schema } } };
      if (Object.keys(responses).every((c) => !c.startsWith('2'))) responses['200'] = { description: 'OK' };
      (paths[op.path] ??= {})[op.method] = {
        summary: op.summary,
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: s.body } } } } : {}),
        responses,
        security: [{ bearer: [] }],
      };
    }
    return {
      openapi: '3.0.3',
      info: { title: 'Orrery', version, description: 'Multi-cluster placement: capacity, what-if, explain, and scaling.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      paths,
    };
  }

  page(): string {
    const esc = (t: string) => t.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
    const rows = this.operations
      .map((op) => {
        const q = (op.schema as { querystring?: { properties?: Record<string, { description?: string }> } }).querystring?.properties ?? {};
        const params = Object.entries(q)
          .map(([k, v]) => `<li><code>${esc(k)}</code> ${esc(v.description ?? '')}</li>`)
          .join('');
        const body = (op.schema as { body?: object }).body;
        return `<section><h2><span class="m ${op.method}">${op.method.toUpperCase()}</span> <code>${esc(op.path)}</code></h2><p>${esc(op.summary)}</p>${params ? `<ul>${params}</ul>` : ''}${body ? `<details><summary>body</summary><pre>${esc(JSON.stringify(body, null, 2))}</pre></details>` : ''}</section>`;
      })
      .join('\n');
    return `<!doctype html><html><head><meta charset="utf-8"><title>Orrery API</title><style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:.5rem 0}h2{font-size:1rem}.m{display:inline-block;min-width:4rem;padding:.1rem .4rem;border-radius:.2rem;color:#fff;font-size:.8rem}
.get{background:#2a7}.post{background:#27a}.put{background:#a72}.delete{background:#a22}pre{background:#f6f6f6;padding:.5rem;overflow:auto}</style></head>
<body><h1>Orrery API</h1><p>The machine-readable document is at <a href="/openapi.json">/openapi.json</a>. Every route but the probes takes <code>Authorization: Bearer &lt;token&gt;</code> when a token is configured.</p>
${rows}</body></html>`;
  }
}
