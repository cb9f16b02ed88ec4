/**
 * `fracflow serve`: the dashboard over a store, on node:http alone. Pages (overview, errors, queues,
 * pathways table, a pathway, a structure) are server-rendered shells whose script reads JSON from
 * `/api/*` and writes it with textContent; `/api/stream` pushes the status as server-sent events when
 * the store changes (another process running the stages); `/files` and `/files/tar` serve a pathway's
 * output folder and nothing else.
 *
 * Safety: bound to loopback unless told otherwise, and then a request whose Host header names another
 * host is refused (a DNS-rebinding page cannot read it); read-only unless started with
 * `allowControl`, and then every control must carry the printed token in the {@link TOKEN_HEADER}
 * header (compared in constant time; a cross-site form cannot set a header); responses carry a
 * Content-Security-Policy that allows only this server's own scripts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PATHWAY_SORT_COLUMNS, type DashboardStore, type PathwayQuery, type PathwaySortColumn, type QueueStore, type RowState } from '../store/interface.js';
import { packageRoot } from '../paths.js';
import { StageError } from '../stage-kit/stage.js';
import { esc, page } from './html.js';
import { FileRefused, listFiles, resolveInside } from './files.js';
import { tarArchive } from './tar.js';
import { newToken, tokenMatches, TOKEN_HEADER } from './token.js';
import { pathwayView, type PathwayView } from './profile.js';

export type DashboardBackend = QueueStore & DashboardStore;

export interface DashboardOptions {
  store: DashboardBackend;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Port (0: any free one). Default 8787. */
  port?: number;
  /** Accept the controls (scale, priority, requeue, submit) from a page that sends the token. */
  allowControl?: boolean;
  /** The token (default: a random one). */
  token?: string;
  /** How often the live stream looks for changes, ms. Default 500. */
  pollMs?: number;
}

export interface Dashboard {
  url: string;
  /** The control token, null when controls are off. */
  token: string | null;
  server: Server;
  close(): Promise<void>;
}

/** The loopback hosts a default dashboard answers to. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), 'web');
const VENDOR_DIR = join(packageRoot, 'build', 'vendor');

/** The static files: a fixed table, so no request path ever names a file. */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/app.js': { file: join(WEB_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/style.css': { file: join(WEB_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/assets/vendor/3Dmol-min.js': { file: join(VENDOR_DIR, '3Dmol-min.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/vendor/uPlot.iife.min.js': { file: join(VENDOR_DIR, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/vendor/uPlot.min.css': { file: join(VENDOR_DIR, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, v: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(v));
}

function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new HttpError(400, `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return v;
}

function numParam(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new HttpError(400, `${name} must be a number, got ${JSON.stringify(raw)}`);
  return v;
}

function required(q: URLSearchParams, name: string): string {
  const v = q.get(name);
  if (v === null || v === '') throw new HttpError(400, `missing query parameter ${name}`);
  return v;
}

/** The pathways query of a request's parameters, validated (messages name the parameter and value). */
export function pathwayQueryOf(q: URLSearchParams): PathwayQuery {
  const sort = q.get('sort') || undefined;
  if (sort !== undefined && !(PATHWAY_SORT_COLUMNS as readonly string[]).includes(sort)) throw new HttpError(400, `sort must be one of ${PATHWAY_SORT_COLUMNS.join(', ')}, got ${JSON.stringify(sort)}`);
  const state = q.get('state') || undefined;
  if (state !== undefined && !['pending', 'running', 'done', 'failed'].includes(state)) throw new HttpError(400, `state must be pending, running, done or failed, got ${JSON.stringify(state)}`);
  const search = q.get('search') || undefined;
  if (search !== undefined && search.length > 200) throw new HttpError(400, `search must be at most 200 characters, got ${search.length}`);
  return {
    search,
    state: state as RowState | undefined,
    minDimensionality: numParam(q, 'minDim'),
    maxEwaldEnergy: numParam(q, 'maxEwald'),
    sort: sort as PathwaySortColumn | undefined,
    descending: q.get('desc') === '1',
    offset: intParam(q, 'offset', 0, 0, 1e9),
    limit: intParam(q, 'limit', 50, 1, 500),
  };
}

async function readBody(req: IncomingMessage, maxBytes = 16384): Promise<unknown> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > maxBytes) throw new HttpError(413, `request body over ${maxBytes} bytes`);
    chunks.push(c as Buffer);
  }
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'controls take a JSON body (content-type: application/json)');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

/** Start the dashboard; resolves once it listens. */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const store = o.store;
  const host = o.host ?? '127.0.0.1';
  const allowControl = o.allowControl === true;
  const token = allowControl ? (o.token ?? newToken()) : null;
  const pollMs = o.pollMs ?? 500;
  const views = new Map<string, PathwayView>();
  const streams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let port = 0;

  const shell = (title: string, pageName: string, body: string, data: unknown = null, extra: { styles?: string[]; scripts?: string[] } = {}) =>
    page({ title, page: pageName, body, data, store: store.location, controls: allowControl, ...extra });

  async function stageNames(): Promise<string[]> {
    return store.stageNames();
  }

  async function requireStage(stage: unknown): Promise<string> {
    const names = await stageNames();
    if (typeof stage !== 'string' || !names.includes(stage)) throw new HttpError(400, `stage must be one of ${names.join(', ') || '(none yet)'}, got ${JSON.stringify(stage)}`);
    return stage;
  }

  async function overview(now = Date.now()) {
    const names = await stageNames();
    const [status, control, events, throughput, workers] = await Promise.all([
      store.status(),
      store.control(),
      store.events(200),
      // 10 s buckets over the last 6 hours (at most 2,160 points per stage).
      store.throughputHistory(10000, now - 6 * 3600 * 1000),
      // The registered stage workers (`fracflow worker`, on any host) with their heartbeats; the page groups them by host.
      store.workers(undefined, now),
    ]);
    const cutoffs: Record<string, Record<string, number>> = {};
    for (const s of names) cutoffs[s] = await store.cutoffs(s);
    return { at: now, status, control, cutoffs, events: events.filter((e) => ['priority', 'broaden', 'scale', 'requeue', 'submit', 'halt'].includes(e.kind)), throughput, workers };
  }

  async function view(key: string): Promise<PathwayView> {
    let v = views.get(key);
    if (!v) {
      const d = await store.pathwayDetail(key);
      if (!d) throw new HttpError(404, `no pathway with key ${JSON.stringify(key)} in this store`);
      v = pathwayView(d);
      if (views.size > 64) views.clear();
      views.set(key, v);
    }
    return v;
  }

  async function outputFolder(key: string): Promise<string> {
    const d = await store.pathwayDetail(key);
    if (!d) throw new HttpError(404, `no pathway with key ${JSON.stringify(key)} in this store`);
    if (!d.out_dir) throw new HttpError(404, `pathway ${JSON.stringify(key)} has no output folder (its images row is not done)`);
    return d.out_dir;
  }

  async function control(action: string, req: IncomingMessage): Promise<unknown> {
    if (!allowControl || token === null) throw new HttpError(403, 'controls are off: start the dashboard with --allow-control');
    const given = req.headers[TOKEN_HEADER];
    if (!tokenMatches(token, Array.isArray(given) ? given[0] : given)) throw new HttpError(403, `control refused: missing or wrong token (send the token printed by serve in the ${TOKEN_HEADER} header)`);
    const body = (await readBody(req)) as Record<string, unknown> | null;
    if (body === null || typeof body !== 'object') throw new HttpError(400, 'request body must be a JSON object');
    const stage = await requireStage(body['stage']);
    switch (action) {
      case 'scale': {
        const w = body['workers'];
        if (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 1024) throw new HttpError(400, `workers must be an integer from 1 to 1024, got ${JSON.stringify(w)}`);
        return store.scale(stage, w);
      }
      case 'priority': {
        const p = body['priority'];
        if (typeof p !== 'string' || p.trim() === '' || p.length > 2000) throw new HttpError(400, `priority must be a non-empty SQL expression of at most 2000 characters, got ${JSON.stringify(p)?.slice(0, 80)}`);
        const r = await store.setPriority(stage, p);
        return { from: r.from, to: p, rescored: r.rescored };
      }
      case 'requeue': {
        const which = body['which'];
        if (which !== 'failed' && which !== 'stale') throw new HttpError(400, `which must be "failed" or "stale", got ${JSON.stringify(which)}`);
        return { requeued: await store.requeue(stage, which) };
      }
      case 'submit': {
        const key = body['key'];
        if (typeof key !== 'string' || key === '' || key.length > 1000) throw new HttpError(400, `key must be a non-empty string, got ${JSON.stringify(key)?.slice(0, 80)}`);
        await store.submit(stage, key);
        return { submitted: key };
      }
      default:
        throw new HttpError(404, `no control named ${JSON.stringify(action)} (scale, priority, requeue, submit)`);
    }
  }

  // One poller for every open stream: the change mark is read each `pollMs`, and the overview is
  // computed once per change and sent to all of them (many open pages cost one read per change).
  let lastMark = '';
  let lastEvent = '';
  let polling: NodeJS.Timeout | null = null;
  let busy = false;
  let quietMs = 0;
  const broadcast = (text: string, to: Iterable<ServerResponse> = streams) => {
    for (const r of to) r.write(text);
  };
  async function poll(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      const mark = await store.changeMark();
      if (mark !== lastMark) {
        lastMark = mark;
        lastEvent = `event: overview\ndata: ${JSON.stringify(await overview())}\n\n`;
        broadcast(lastEvent);
        quietMs = 0;
      } else if ((quietMs += pollMs) >= 15000) {
        quietMs = 0;
        broadcast(': keep-alive\n\n');
      }
    } catch (e) {
      broadcast(`event: problem\ndata: ${JSON.stringify({ message: (e as Error).message })}\n\n`);
    } finally {
      busy = false;
    }
  }

  async function stream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    streams.add(res);
    const stop = () => {
      streams.delete(res);
      if (streams.size === 0 && polling) {
        clearInterval(polling);
        polling = null;
        lastMark = '';
      }
    };
    req.on('close', stop);
    res.on('close', stop);
    if (!polling) {
      polling = setInterval(() => void poll(), pollMs);
      await poll();
    } else if (lastEvent) broadcast(lastEvent, [res]);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const q = url.searchParams;
    const path = url.pathname;
    if (req.method === 'POST' && path.startsWith('/api/control/')) return sendJson(res, 200, await control(path.slice('/api/control/'.length), req));
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `method ${req.method} not allowed here`);
    const asset = ASSETS[path];
    if (asset) {
      let body: Buffer;
      try {
        body = readFileSync(asset.file);
      } catch {
        throw new HttpError(404, `asset ${path} is not built (run npm run build)`);
      }
      return send(res, 200, asset.type, body, { 'cache-control': 'max-age=3600' });
    }
    switch (path) {
      case '/favicon.ico':
        res.writeHead(204, SECURITY_HEADERS);
        return void res.end();
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', shell('Overview', 'overview', OVERVIEW_BODY, await overview(), UPLOT));
      case '/errors':
        return send(res, 200, 'text/html; charset=utf-8', shell('Errors', 'errors', ERRORS_BODY, { groups: await store.errorGroups() }));
      case '/row': {
        const stage = await requireStage(q.get('stage'));
        const key = required(q, 'key');
        const h = await store.rowHistory(stage, key);
        if (!h) throw new HttpError(404, `stage ${stage} has no row with key ${JSON.stringify(key)}`);
        return send(res, 200, 'text/html; charset=utf-8', shell(`${stage} · ${key}`, 'row', ROW_BODY, h));
      }
      case '/queues':
        return send(res, 200, 'text/html; charset=utf-8', shell('Queues', 'queues', QUEUES_BODY, await queues(intParam(q, 'n', 20, 1, 1000))));
      case '/pathways':
        return send(res, 200, 'text/html; charset=utf-8', shell('Pathways', 'pathways', PATHWAYS_BODY, { sortColumns: PATHWAY_SORT_COLUMNS }));
      case '/pathway': {
        const key = required(q, 'key');
        const d = await store.pathwayDetail(key);
        if (!d) throw new HttpError(404, `no pathway with key ${JSON.stringify(key)} in this store`);
        const files = d.out_dir ? listFiles(d.out_dir) : [];
        const summary = { ...d, lattice: undefined, frac: undefined, oxidationStates: undefined, species: undefined, hops_json: undefined };
        return send(res, 200, 'text/html; charset=utf-8', shell(`Pathway ${d.formula} hop ${d.hop_index}`, 'pathway', PATHWAY_BODY, { summary, files }, { styles: ['/assets/vendor/uPlot.min.css'], scripts: ['/assets/vendor/3Dmol-min.js', '/assets/vendor/uPlot.iife.min.js'] }));
      }
      case '/structure': {
        const id = required(q, 'id');
        const s = await store.structureHops(id);
        if (!s) throw new HttpError(404, `no structure ${JSON.stringify(id)} with pathways in this store`);
        return send(res, 200, 'text/html; charset=utf-8', shell(`Structure ${s.formula}`, 'structure', STRUCTURE_BODY, s));
      }
      case '/api/status':
        return sendJson(res, 200, await store.status());
      case '/api/overview':
        return sendJson(res, 200, await overview());
      case '/api/errors':
        return sendJson(res, 200, await store.errorGroups(q.get('stage') || undefined));
      case '/api/row': {
        const stage = await requireStage(q.get('stage'));
        const h = await store.rowHistory(stage, required(q, 'key'));
        if (!h) throw new HttpError(404, `stage ${stage} has no row with key ${JSON.stringify(q.get('key'))}`);
        return sendJson(res, 200, h);
      }
      case '/api/queues':
        return sendJson(res, 200, await queues(intParam(q, 'n', 20, 1, 1000)));
      case '/api/pathways':
        return sendJson(res, 200, await store.pathwaysPage(pathwayQueryOf(q)));
      case '/api/pathway':
        return sendJson(res, 200, await view(required(q, 'key')));
      case '/api/structure': {
        const s = await store.structureHops(required(q, 'id'));
        if (!s) throw new HttpError(404, `no structure ${JSON.stringify(q.get('id'))} with pathways in this store`);
        return sendJson(res, 200, s);
      }
      case '/api/stream':
        return stream(req, res);
      case '/files': {
        const root = await outputFolder(required(q, 'key'));
        const file = resolveInside(root, required(q, 'path'));
        if (!statSync(file).isFile()) throw new HttpError(404, `${q.get('path')} is a folder: download it with /files/tar`);
        return send(res, 200, 'application/octet-stream', readFileSync(file), { 'content-disposition': `attachment; filename="${basename(file).replace(/[^A-Za-z0-9._-]/g, '_')}"` });
      }
      case '/files/tar': {
        const key = required(q, 'key');
        const root = await outputFolder(key);
        const dir = required(q, 'dir');
        const names = listFiles(root, dir);
        if (names.length === 0) throw new HttpError(404, `no files under ${JSON.stringify(dir)} in the pathway's output folder`);
        const files = names.map((n) => {
          const real = resolveInside(root, n);
          return { name: n, data: readFileSync(real), mtimeMs: statSync(real).mtimeMs };
        });
        const name = `${basename(root)}-${dir.replace(/[^A-Za-z0-9._-]/g, '_')}.tar`;
        return send(res, 200, 'application/x-tar', tarArchive(files), { 'content-disposition': `attachment; filename="${name}"` });
      }
      default:
        throw new HttpError(404, `no page ${path}`);
    }
  }

  async function queues(n: number) {
    const out: { stage: string; head: Awaited<ReturnType<DashboardStore['queueHead']>>; priority: unknown }[] = [];
    const control = await store.control();
    for (const s of await stageNames()) out.push({ stage: s, head: await store.queueHead(s, n), priority: control.find((c) => c.stage === s)?.priority ?? null });
    return out;
  }

  function hostAllowed(req: IncomingMessage): boolean {
    if (!LOOPBACK.has(host)) return true;
    const h = (req.headers.host ?? '').toLowerCase();
    const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d+$/, '');
    return LOOPBACK.has(name);
  }

  const server = createServer((req, res) => {
    if (!hostAllowed(req)) return send(res, 421, 'text/plain; charset=utf-8', `host ${req.headers.host ?? ''} is not served: the dashboard answers to loopback names only\n`);
    route(req, res).catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      // The store's validation errors (StageError: a bad stage, priority expression or page query) are the request's fault.
      const status = e instanceof HttpError || e instanceof FileRefused ? e.status : e instanceof StageError ? 400 : 500;
      const message = (e as Error).message ?? String(e);
      const wantsJson = (req.url ?? '').startsWith('/api/') || (req.url ?? '').startsWith('/files');
      if (wantsJson) return sendJson(res, status, { error: message });
      send(res, status, 'text/html; charset=utf-8', shell(`Error ${status}`, 'error', `<p class="error">${esc(message)}</p>`));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8787, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    token,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of streams) r.end();
        streams.clear();
        if (polling) clearInterval(polling);
        polling = null;
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

const UPLOT = { styles: ['/assets/vendor/uPlot.min.css'], scripts: ['/assets/vendor/uPlot.iife.min.js'] };

const OVERVIEW_BODY = `<section><h2>Stages</h2>
<table id="stages" class="grid"><thead><tr><th>stage</th><th>pending</th><th>running</th><th>done</th><th>failed</th><th>rows/s</th><th>ETA</th><th>workers</th></tr></thead><tbody></tbody></table>
<p class="muted" id="updated"></p></section>
<section><h2>Workers</h2><p class="muted">stage workers (<code>fracflow worker</code>) registered in the store, by host, with their last heartbeat</p>
<table id="workers" class="grid"><thead><tr><th>host</th><th>worker</th><th>stage</th><th>threads</th><th>job</th><th>started</th><th>last heartbeat</th><th>rows done</th><th>state</th></tr></thead><tbody></tbody></table></section>
<section><h2>Throughput</h2><p class="muted">rows finished per 10 s, last 6 hours</p><div id="throughput"></div></section>
<section><h2>Cutoffs and priorities</h2><table id="control" class="grid"><thead><tr><th>stage</th><th>priority</th><th>cutoffs</th></tr></thead><tbody></tbody></table>
<h3>History</h3><table id="events" class="grid"><thead><tr><th>when</th><th>stage</th><th>change</th><th>detail</th></tr></thead><tbody></tbody></table></section>
<section id="controls" class="controls"><h2>Controls</h2>
<p class="muted">Controls need the token <code>fracflow serve --allow-control</code> printed.</p>
<label>token <input id="token" type="password" autocomplete="off"></label>
<form data-control="scale"><label>stage <select name="stage" class="stage-select"></select></label> <label>workers <input name="workers" type="number" min="1" max="1024" value="2"></label> <button>scale</button></form>
<form data-control="priority"><label>stage <select name="stage" class="stage-select"></select></label> <label>priority <input name="priority" size="40" placeholder="-(ewald_energy)"></label> <button>swap priority</button></form>
<form data-control="requeue"><label>stage <select name="stage" class="stage-select"></select></label> <select name="which"><option>failed</option><option>stale</option></select> <button>requeue</button></form>
<form data-control="submit"><label>stage <select name="stage" class="stage-select"></select></label> <label>key <input name="key" size="40"></label> <button>submit</button></form>
<p id="control-result" class="muted"></p></section>`;

const ERRORS_BODY = `<table id="error-groups" class="grid"><thead><tr><th>stage</th><th>rows</th><th>attempts</th><th>message</th><th>examples</th></tr></thead><tbody></tbody></table>`;

const ROW_BODY = `<dl id="row-summary"></dl><h2>Attempts</h2>
<table id="attempts" class="grid"><thead><tr><th>#</th><th>outcome</th><th>holder</th><th>started</th><th>finished</th><th>error</th></tr></thead><tbody></tbody></table>
<h2>Last error</h2><pre id="last-error"></pre><h2>Output tail</h2><pre id="output-tail"></pre>`;

const QUEUES_BODY = `<div id="queues"></div>`;

const PATHWAYS_BODY = `<form id="filters" class="filters">
<label>search <input name="search" placeholder="structure id or formula"></label>
<label>state <select name="state"><option value="">any</option><option>done</option><option>failed</option><option>pending</option><option>running</option></select></label>
<label>dimensionality ≥ <input name="minDim" type="number" min="0" max="3" step="1" size="3"></label>
<label>ewald_energy ≤ <input name="maxEwald" type="number" step="any" size="6"></label>
<button>filter</button></form>
<p id="page-info" class="muted"></p>
<table id="pathways" class="grid sortable"><thead><tr></tr></thead><tbody></tbody></table>
<p><button id="prev">‹ previous</button> <button id="next">next ›</button></p>`;

const PATHWAY_BODY = `<dl id="summary"></dl>
<div class="pathway-grid">
<section><h2>Hop in 3D</h2><p class="muted">supercell, host atoms, the moving ion at each IDPP image (start → end)</p><div id="viewer" class="viewer"></div></section>
<section><h2>Profiles</h2><p id="profile-note" class="muted"></p><div id="plot-ewald" class="plot"></div><div id="plot-overlap" class="plot"></div></section>
</div>
<section><h2>Downloads</h2><ul id="downloads"></ul></section>`;

const STRUCTURE_BODY = `<dl id="structure-summary"></dl>
<h2>Percolation</h2><table id="percolation" class="grid"><thead><tr><th>dimension</th><th>length at which all hops ≤ it percolate (Å)</th></tr></thead><tbody></tbody></table>
<h2>Hops</h2><table id="hops" class="grid"><thead><tr><th>hop</th><th>length (Å)</th><th>multiplicity</th><th>IDPP</th><th>state</th><th>dimensionality</th><th>cumulative by length</th><th>cumulative by barrier</th><th>ewald_energy</th></tr></thead><tbody></tbody></table>`;
