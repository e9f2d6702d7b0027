// The web view: a static page and its script, served by Orrery itself (no CDN, for air-gapped
// hubs). The page holds no data: it asks the API like any client, with the token it is given.

import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// From dist/src/server/: the page's sources at ui/, its compiled script at dist/ui/.
const pageDir = fileURLToPath(new URL('../../../ui/', import.meta.url));
const scriptDir = fileURLToPath(new URL('../../ui/', import.meta.url));

export const uiRoutes: FastifyPluginAsync = async (app) => {
  if (!existsSync(`${scriptDir}app.js`)) {
    app.log.warn(`the web view's script is not built (${scriptDir}app.js): run npm run build`);
  }
  await app.register(fastifyStatic, {
    root: [pageDir, scriptDir],
    prefix: '/ui/',
    index: ['index.html'],
    // Only what the page needs: the HTML, its style and script.
    allowedPath: (path) => /^\/(index\.html|style\.css|app\.js|app\.js\.map)?$/.test(path),
    cacheControl: true,
    maxAge: 0,
    schemaHide: true,
  });
  app.get('/ui', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/ui/'));
};
