/**
 * A loopback stand-in for the Materials Project summary endpoint (`GET /materials/summary/`), for
 * the MP API client's tests: MP-shaped pages (`{"data": [...], "meta": {"total_doc": N, ...}}`) built
 * from the bundled data, `elements` / `_fields` / `_limit` / `_skip` handled as the real server
 * does, the key checked in `X-API-KEY`, and scripted faults (429 with Retry-After, 5xx, malformed
 * bodies, slow answers) on chosen requests.
 *
 * The server listens on 127.0.0.1, port 0, and stops itself after `maxRequests` requests or
 * `lifetimeMs`, whichever comes first, so a test that forgets `close()` cannot hang the run.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadBundled } from '../../src/io/bundled.js';
import { writeStructure } from '../../src/structure/io.js';

/** A scripted answer to the n-th request (1-based, counting every request the server receives). */
export interface MpFault {
  request: number;
  /** HTTP status. Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** Body sent as is. Default: `{"detail": "<reason phrase>"}`. */
  body?: string;
  /** Wait this long before answering (ms). */
  delayMs?: number;
}

export interface MpServerOptions {
  /** Summary documents in server order; each needs `material_id` and `elements` (for the filter). */
  documents: readonly Record<string, unknown>[];
  /** The key the server accepts. */
  apiKey: string;
  faults?: readonly MpFault[];
  /** Requests served before the server closes itself. Default 200. */
  maxRequests?: number;
  /** Hard lifetime (ms). Default 20 000. */
  lifetimeMs?: number;
}

export interface RecordedRequest {
  /** 1-based. */
  n: number;
  url: URL;
  headers: IncomingHttpHeaders;
}

export interface MpServer {
  /** `http://127.0.0.1:PORT` */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Resolves once the server has stopped (by `close()` or by itself). */
  closed: Promise<void>;
  close(): Promise<void>;
}

const MAX_LIMIT = 1000;
const KNOWN_PARAMS = new Set(['elements', '_fields', '_limit', '_skip', 'deprecated', '_all_fields']);

let bundledDocs: Record<string, unknown>[] | null = null;

/**
 * Summary documents of the bundled `mp` dataset (450 F-containing MP structures), in file order:
 * material_id, structure (pymatgen dict, empty `properties` as in MP's documents),
 * energy_above_hull, formation_energy_per_atom, possible_species, plus fields the client does not
 * ask for (elements, nsites, band_gap) so that `_fields` is exercised. A fresh deep copy each call,
 * so a test may corrupt its documents freely.
 */
export function bundledMpDocuments(): Record<string, unknown>[] {
  if (!bundledDocs) {
    bundledDocs = loadBundled('mp').map((s) => {
      const structure = JSON.parse(writeStructure(s, 'pymatgen-json')) as Record<string, unknown>;
      structure['properties'] = {};
      return {
        material_id: s.info.id,
        structure,
        energy_above_hull: (s.info['e_above_hull'] as number | null | undefined) ?? null,
        formation_energy_per_atom: (s.info['formation_energy_per_atom'] as number | null | undefined) ?? null,
        possible_species: null,
        elements: [...new Set(s.species)].sort(),
        nsites: s.species.length,
        band_gap: (s.info['band_gap'] as number | null | undefined) ?? null,
      };
    });
  }
  return structuredClone(bundledDocs);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

function detail(msg: unknown): string {
  return JSON.stringify({ detail: msg });
}

export async function startMpServer(options: MpServerOptions): Promise<MpServer> {
  const maxRequests = options.maxRequests ?? 200;
  const faults = new Map((options.faults ?? []).map((f) => [f.request, f]));
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const n = requests.length + 1;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ n, url, headers: req.headers });
    if (n > maxRequests) {
      send(res, 503, detail('loopback server: request budget exhausted'), { connection: 'close' });
      return;
    }
    // Stop once the last allowed answer has been handed to the socket.
    if (n === maxRequests) res.once('finish', () => void stop());
    const answer = (): void => {
      const fault = faults.get(n);
      if (fault && (fault.status !== undefined || fault.body !== undefined)) {
        const status = fault.status ?? 200;
        send(res, status, fault.body ?? detail(`scripted ${status}`), fault.headers);
        return;
      }
      serve(url, req.headers, res);
    };
    const delay = faults.get(n)?.delayMs;
    if (delay !== undefined) {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) answer();
      }, delay);
      timers.add(t);
    } else answer();
  });

  function serve(url: URL, headers: IncomingHttpHeaders, res: ServerResponse): void {
    if (url.pathname !== '/materials/summary/') return send(res, 404, detail('Not Found'));
    const key = headers['x-api-key'];
    if (key === undefined) return send(res, 401, detail('No API key found in request'));
    if (key !== options.apiKey) return send(res, 403, detail('Invalid API key'));
    for (const k of url.searchParams.keys()) if (!KNOWN_PARAMS.has(k)) return send(res, 400, detail(`Request contains query parameters which cannot be used: ${k}`));
    const limit = Number(url.searchParams.get('_limit') ?? '100');
    const skip = Number(url.searchParams.get('_skip') ?? '0');
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      return send(res, 422, detail([{ loc: ['query', '_limit'], msg: `ensure this value is less than or equal to ${MAX_LIMIT}` }]));
    }
    if (!Number.isInteger(skip) || skip < 0) return send(res, 422, detail([{ loc: ['query', '_skip'], msg: 'value is not a valid integer' }]));
    const wanted = (url.searchParams.get('elements') ?? '').split(',').filter(Boolean);
    const matching = options.documents.filter((d) => wanted.every((e) => (d['elements'] as string[]).includes(e)));
    const fields = (url.searchParams.get('_fields') ?? 'material_id').split(',');
    const data = matching.slice(skip, skip + limit).map((d) => Object.fromEntries(fields.filter((f) => f in d).map((f) => [f, d[f]])));
    send(res, 200, JSON.stringify({ data, meta: { api_version: 'loopback', time_stamp: '2026-01-01T00:00:00', total_doc: matching.length, max_limit: MAX_LIMIT } }));
  }

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let stopping: Promise<void> | null = null;
  function stop(): Promise<void> {
    if (!stopping) {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      clearTimeout(lifetime);
      stopping = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(resolveClosed);
    }
    return stopping;
  }
  const lifetime = setTimeout(() => void stop(), options.lifetimeMs ?? 20_000);
  lifetime.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, requests, closed, close: stop };
}
