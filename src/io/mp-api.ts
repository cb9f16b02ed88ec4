/**
 * Client for the live Materials Project API (next-gen, `https://api.materialsproject.org`): the
 * paginated summary query for every material whose elements include one element (default F).
 *
 * What this relies on, from the public API and its official Python client (materialsproject/api,
 * `mp_api/client/core/client.py` and `routes/materials/summary.py`):
 * - `GET {base}/materials/summary/` with the key in the `X-API-KEY` header (HTTP headers are
 *   case-insensitive; the official client sends `x-api-key`).
 * - Filter `elements=F` (comma-separated list: materials containing all of them); projection
 *   `_fields=material_id,structure,...`; pagination `_limit` (page size, at most 1000 — the
 *   server's `max_limit`, also the official client's chunk size) and `_skip` (documents to skip).
 * - Response envelope `{"data": [document, ...], "meta": {"total_doc": N, ...}}`; errors carry
 *   `{"detail": "..."}` (a string, or a list of `{loc, msg}` for validation errors).
 * - 429 is rate limiting (the official client retries it honouring `Retry-After`); 401/403 mean a
 *   missing or invalid key.
 *
 * Pages are requested one at a time in order (`_skip = k · pageSize`), so structures arrive in the
 * server's order, each exactly once as long as the database does not change during the query.
 * Documents are converted by the MP summary-document reader ({@link structureFromMpDocument}),
 * the one behind `readStructures(..., 'mp-json')`.
 *
 * The API key is never written into messages, errors or callbacks: it travels only in the header,
 * and any echo of it in a server's error body is masked before the body is quoted.
 */
import { isElement } from '../structure/elements.js';
import { StructureError } from '../structure/errors.js';
import { structureFromMpDocument } from '../structure/mp-document.js';
import { describeJson, isPlainObject } from '../structure/read-common.js';
import { formatBytes, MAX_TEXT_BYTES, MIB } from '../structure/limits.js';
import type { Structure } from '../structure/structure.js';

/** Public endpoint of the next-gen Materials Project API. */
export const MP_API_DEFAULT_BASE_URL = 'https://api.materialsproject.org';

/** Summary fields requested for the import stage. */
export const MP_SUMMARY_FIELDS = ['material_id', 'structure', 'energy_above_hull', 'formation_energy_per_atom', 'possible_species'] as const;

/** Largest page the server hands out (`meta.max_limit`). */
export const MP_API_MAX_PAGE_SIZE = 1000;

const KEY_HINT = 'set MP_API_KEY or pass --mp-api-key';

export interface MpApiOptions {
  /** API key; default `process.env.MP_API_KEY`. Never logged. */
  apiKey?: string;
  /** Server root; default {@link MP_API_DEFAULT_BASE_URL}. `materials/summary/` is appended. */
  baseUrl?: string;
  /** Element every returned material must contain. Default `'F'`. */
  element?: string;
  /** Documents per page (`_limit`), 1 … {@link MP_API_MAX_PAGE_SIZE}. Default 1000. */
  pageSize?: number;
  /** Stop after this many documents (a positive integer). Default: all. */
  maxDocuments?: number;
  /** Extra query parameters (e.g. `{ deprecated: 'false', energy_above_hull_max: '0.1' }`). */
  filters?: Readonly<Record<string, string>>;
  /** Retries of one page after 429, 5xx, a timeout or a network failure. Default 5. */
  maxRetries?: number;
  /** First back-off delay (ms); doubles on each retry of the same page. Default 1000. */
  initialBackoffMs?: number;
  /** Upper bound of the exponential back-off (ms). Default 60 000. */
  maxBackoffMs?: number;
  /**
   * Longest `Retry-After` the client agrees to wait (ms); a longer one ends the query with an error
   * rather than blocking for hours. Default 600 000 (10 min).
   */
  maxRetryAfterMs?: number;
  /** Time limit of one request, headers and body (ms). Default 120 000. */
  timeoutMs?: number;
  /**
   * Largest response body of one page, in bytes, counted as it arrives: a larger one is abandoned
   * and ends the query with a `malformed` error instead of filling the memory. Default 256 MiB (a
   * page of 1000 summary documents is some tens of MB).
   */
  maxPageBytes?: number;
  /** Per-document leniency: a document that fails validation is reported in its page's `errors`. Default false. */
  lenient?: boolean;
  /** Cancels the query. */
  signal?: AbortSignal;
  /** Injectable for tests: the wait between retries. Default a timer that `signal` cuts short. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable for tests: current time in ms since the epoch, used for HTTP-date `Retry-After`. Default `Date.now`. */
  now?: () => number;
  /** Injectable HTTP client; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Called before each retry wait (progress reporting). */
  onRetry?: (event: MpRetryEvent) => void;
}

/** A retry about to happen. */
export interface MpRetryEvent {
  /** 1-based page number. */
  page: number;
  /** 1-based retry number for this page. */
  attempt: number;
  /** HTTP status, or null for a network failure / timeout. */
  status: number | null;
  /** Why: `HTTP 429`, `HTTP 503`, `timeout`, `network: ...`. */
  reason: string;
  delayMs: number;
}

/** A document of a page that failed validation (lenient mode). */
export interface MpDocumentError {
  /** 0-based index of the document within the whole query. */
  index: number;
  id?: string;
  message: string;
  error: StructureError;
}

/** One page of the query. */
export interface MpPage {
  /** 1-based page number. */
  page: number;
  /** `_skip` of the request. */
  skip: number;
  /** `meta.total_doc` as reported by this page, or null when the page had no `meta`. */
  totalDocuments: number | null;
  /** Structures in server order with their 0-based index within the whole query. */
  structures: { structure: Structure; index: number }[];
  errors: MpDocumentError[];
}

export type MpApiErrorKind = 'auth' | 'http' | 'malformed' | 'retries' | 'options' | 'aborted';

/** Failure of the query; the message names the page and the cause, never the key. */
export class MpApiError extends Error {
  readonly kind: MpApiErrorKind;
  /** 1-based page number, when the failure belongs to one page. */
  readonly page?: number;
  /** Last HTTP status, when there was a response. */
  readonly status?: number;

  constructor(kind: MpApiErrorKind, message: string, details: { page?: number; status?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MpApiError';
    this.kind = kind;
    this.page = details.page;
    this.status = details.status;
  }
}

interface Resolved {
  apiKey: string;
  url: URL;
  element: string;
  pageSize: number;
  maxDocuments: number;
  filters: Readonly<Record<string, string>>;
  maxRetries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  maxRetryAfterMs: number;
  timeoutMs: number;
  maxPageBytes: number;
  lenient: boolean;
  signal?: AbortSignal;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  fetch: typeof fetch;
  onRetry?: (event: MpRetryEvent) => void;
}

function optionError(message: string): MpApiError {
  return new MpApiError('options', message);
}

function intOption(name: string, v: number | undefined, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in ${min} … ${max}`;
    throw optionError(`${name} must be ${range}, got ${String(v)}`);
  }
  return v;
}

function msOption(name: string, v: number | undefined, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw optionError(`${name} must be a finite number of ms ≥ 0, got ${String(v)}`);
  return v;
}

const RESERVED_PARAMS = new Set(['elements', '_fields', '_limit', '_skip', '_page', '_per_page', '_all_fields']);

/** A wait that ends early when `signal` aborts (the caller then sees `signal.aborted`). */
function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function resolveOptions(o: MpApiOptions): Resolved {
  const rawKey = o.apiKey !== undefined ? o.apiKey : process.env['MP_API_KEY'];
  const apiKey = typeof rawKey === 'string' ? rawKey.trim() : '';
  if (apiKey === '') throw new MpApiError('auth', `missing API key: ${KEY_HINT}`);
  // A key with control characters would be refused by fetch with a message quoting the header.
  if (/[\u0000-\u001f\u007f\s]/.test(apiKey)) throw new MpApiError('auth', `invalid API key (contains whitespace or control characters): ${KEY_HINT}`);

  const base = o.baseUrl ?? MP_API_DEFAULT_BASE_URL;
  let root: URL;
  try {
    root = new URL(base);
  } catch {
    throw optionError(`baseUrl must be an http(s) URL, got ${JSON.stringify(base)}`);
  }
  if (root.protocol !== 'http:' && root.protocol !== 'https:') throw optionError(`baseUrl must be an http(s) URL, got ${JSON.stringify(base)}`);
  if (root.search !== '' || root.hash !== '') throw optionError(`baseUrl must not carry a query or fragment, got ${JSON.stringify(base)}`);
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  const url = new URL('materials/summary/', root);

  const element = o.element ?? 'F';
  if (typeof element !== 'string' || !isElement(element)) throw optionError(`element must be an element symbol such as "F", got ${JSON.stringify(element)}`);

  const filters = o.filters ?? {};
  for (const [k, v] of Object.entries(filters)) {
    if (RESERVED_PARAMS.has(k)) throw optionError(`filters: ${JSON.stringify(k)} is set by the client itself (element, pageSize)`);
    if (typeof v !== 'string') throw optionError(`filters: ${JSON.stringify(k)} must be a string, got ${describeJson(v)}`);
  }

  const fetchImpl = o.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw optionError('no fetch implementation: Node ≥ 18 provides one globally, or pass options.fetch');

  return {
    apiKey,
    url,
    element,
    pageSize: intOption('pageSize', o.pageSize, MP_API_MAX_PAGE_SIZE, 1, MP_API_MAX_PAGE_SIZE),
    maxDocuments: intOption('maxDocuments', o.maxDocuments, Number.MAX_SAFE_INTEGER, 1),
    filters,
    maxRetries: intOption('maxRetries', o.maxRetries, 5, 0, 100),
    initialBackoffMs: msOption('initialBackoffMs', o.initialBackoffMs, 1000),
    maxBackoffMs: msOption('maxBackoffMs', o.maxBackoffMs, 60_000),
    maxRetryAfterMs: msOption('maxRetryAfterMs', o.maxRetryAfterMs, 600_000),
    timeoutMs: msOption('timeoutMs', o.timeoutMs, 120_000),
    maxPageBytes: intOption('maxPageBytes', o.maxPageBytes, 256 * MIB, 1, MAX_TEXT_BYTES),
    lenient: o.lenient ?? false,
    signal: o.signal,
    sleep: o.sleep ?? ((ms) => abortableDelay(ms, o.signal)),
    now: o.now ?? Date.now,
    fetch: fetchImpl,
    onRetry: o.onRetry,
  };
}

/** URL of one page (no key in it: the key is a header). */
function pageUrl(r: Resolved, skip: number, limit: number): URL {
  const u = new URL(r.url);
  u.searchParams.set('elements', r.element);
  for (const [k, v] of Object.entries(r.filters)) u.searchParams.set(k, v);
  u.searchParams.set('_fields', MP_SUMMARY_FIELDS.join(','));
  u.searchParams.set('_limit', String(limit));
  u.searchParams.set('_skip', String(skip));
  return u;
}

/**
 * `Retry-After` in ms: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); null when absent or
 * unreadable (then the exponential back-off applies).
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return null;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.max(0, t - nowMs);
}

/** Quoted server text for a message: the key masked, whitespace collapsed, at most 300 characters. */
function quoteBody(text: string, apiKey: string): string {
  let t = text.split(apiKey).join('***').replace(/\s+/g, ' ').trim();
  if (t.length > 300) t = t.slice(0, 300) + '…';
  return t;
}

/** The server's `detail` (FastAPI style), else the body itself. */
function serverMessage(body: string, apiKey: string): string {
  try {
    const v: unknown = JSON.parse(body);
    if (isPlainObject(v)) {
      const d = v['detail'];
      if (typeof d === 'string') return quoteBody(d, apiKey);
      if (Array.isArray(d)) {
        const parts = d.map((e) => (isPlainObject(e) && typeof e['msg'] === 'string' ? `${Array.isArray(e['loc']) ? e['loc'].join('.') + ': ' : ''}${e['msg']}` : JSON.stringify(e)));
        return quoteBody(parts.join('; '), apiKey);
      }
    }
  } catch {
    // Not JSON: quote the text.
  }
  return quoteBody(body, apiKey);
}

function pageLabel(page: number, skip: number, limit: number): string {
  return `page ${page} (_skip=${skip}, _limit=${limit})`;
}

function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');
}

/**
 * The body of a response as text, counted as it arrives (and first by its Content-Length) against
 * `maxBytes`: a larger body is cancelled and the query ends with a `malformed` error naming the page
 * and the limit, so a runaway response never has to fit in memory.
 */
async function readBody(res: Response, maxBytes: number, label: string, page: number): Promise<string> {
  const tooLarge = (what: string): MpApiError =>
    new MpApiError('malformed', `Materials Project API: ${label}: the response body is ${what}, over the limit of ${formatBytes(maxBytes)} (maxPageBytes); ask for smaller pages (pageSize)`, { page, status: res.status });
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(`${formatBytes(declared)} (Content-Length)`);
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`more than ${formatBytes(maxBytes)}`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8').replace(/^\uFEFF/, '');
}

/** GET one page with retries; resolves to the response body text of a 200. */
async function getPage(r: Resolved, page: number, skip: number, limit: number): Promise<string> {
  const url = pageUrl(r, skip, limit);
  const label = pageLabel(page, skip, limit);
  let lastReason = '';
  let lastStatus: number | undefined;
  for (let attempt = 0; attempt <= r.maxRetries; attempt++) {
    if (r.signal?.aborted) throw new MpApiError('aborted', `Materials Project query aborted before ${label}`, { page });
    const timeout = AbortSignal.timeout(r.timeoutMs);
    const signal = r.signal ? AbortSignal.any([r.signal, timeout]) : timeout;
    let status: number | null = null;
    let retryAfterMs: number | null = null;
    try {
      const res = await r.fetch(url, { headers: { 'X-API-KEY': r.apiKey, Accept: 'application/json' }, signal });
      status = res.status;
      const body = await readBody(res, r.maxPageBytes, label, page);
      if (res.status === 200) return body;
      if (res.status === 401 || res.status === 403) {
        throw new MpApiError('auth', `invalid or missing API key: ${KEY_HINT} (HTTP ${res.status} on ${label}: ${serverMessage(body, r.apiKey)})`, { page, status: res.status });
      }
      if (res.status !== 429 && res.status < 500) {
        throw new MpApiError('http', `Materials Project API: HTTP ${res.status} on ${label}: ${serverMessage(body, r.apiKey)}`, { page, status: res.status });
      }
      lastReason = `HTTP ${res.status}`;
      lastStatus = res.status;
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), r.now());
    } catch (e) {
      if (e instanceof MpApiError) throw e;
      if (r.signal?.aborted) throw new MpApiError('aborted', `Materials Project query aborted during ${label}`, { page, cause: e });
      // A timeout or a network failure (connection refused/reset, truncated body): retried.
      const what = isAbort(e) ? `timeout after ${r.timeoutMs} ms` : `network: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`;
      lastReason = what.split(r.apiKey).join('***');
      lastStatus = undefined;
    }
    if (attempt === r.maxRetries) break;
    if (retryAfterMs !== null && retryAfterMs > r.maxRetryAfterMs) {
      throw new MpApiError('retries', `Materials Project API: ${lastReason} on ${label} with Retry-After ${retryAfterMs / 1000} s, more than maxRetryAfterMs = ${r.maxRetryAfterMs} ms`, { page, status: status ?? undefined });
    }
    const delayMs = retryAfterMs ?? Math.min(r.maxBackoffMs, r.initialBackoffMs * 2 ** attempt);
    r.onRetry?.({ page, attempt: attempt + 1, status, reason: lastReason, delayMs });
    await r.sleep(delayMs);
  }
  throw new MpApiError('retries', `Materials Project API: ${label} failed after ${r.maxRetries + 1} attempts; last error: ${lastReason}`, { page, status: lastStatus });
}

interface Envelope {
  data: unknown[];
  total: number | null;
}

function parseEnvelope(body: string, page: number, label: string, apiKey: string): Envelope {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    throw new MpApiError('malformed', `Materials Project API: malformed ${label}: not valid JSON (${(e as Error).message.split(apiKey).join('***')}); body starts ${JSON.stringify(body.split(apiKey).join('***').slice(0, 80))}`, { page });
  }
  if (!isPlainObject(v)) throw new MpApiError('malformed', `Materials Project API: malformed ${label}: expected an object {"data": [...], "meta": {...}}, got ${describeJson(v)}`, { page });
  const data = v['data'];
  if (!Array.isArray(data)) throw new MpApiError('malformed', `Materials Project API: malformed ${label}: "data" must be a list of documents, got ${describeJson(data)}`, { page });
  const meta = v['meta'];
  let total: number | null = null;
  if (meta !== undefined && meta !== null) {
    if (!isPlainObject(meta)) throw new MpApiError('malformed', `Materials Project API: malformed ${label}: "meta" must be an object, got ${describeJson(meta)}`, { page });
    const t = meta['total_doc'];
    if (t !== undefined) {
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) throw new MpApiError('malformed', `Materials Project API: malformed ${label}: meta.total_doc must be an integer ≥ 0, got ${describeJson(t)}`, { page });
      total = t;
    }
  }
  return { data, total };
}

/**
 * The summary query page by page: every material whose elements include `options.element`
 * (default F), fields {@link MP_SUMMARY_FIELDS}, each document converted to a Structure (info:
 * `id` = material_id, `energy_above_hull`, `formation_energy_per_atom` in eV/atom,
 * `possible_species`, `source` = `'mp-api'`). Ends when a page is shorter than `_limit`, when
 * `_skip` reaches `meta.total_doc`, or at `maxDocuments`. Throws {@link MpApiError}: `auth`
 * (no key, 401/403), `http` (other 4xx), `retries` (429/5xx/network failures beyond `maxRetries`),
 * `malformed` (a page that is not the envelope, or — unless `lenient` — a document that does not
 * validate; the message names the page), `options`, `aborted`.
 */
export async function* mpSummaryPages(options: MpApiOptions = {}): AsyncGenerator<MpPage, void, undefined> {
  const r = resolveOptions(options);
  let skip = 0;
  // Each turn either returns or advances `skip` by a full page, and `skip` is capped by
  // maxDocuments and total_doc, so the loop is bounded.
  for (let page = 1; ; page++) {
    const limit = Math.min(r.pageSize, r.maxDocuments - skip);
    const label = pageLabel(page, skip, limit);
    const env = parseEnvelope(await getPage(r, page, skip, limit), page, label, r.apiKey);
    if (env.data.length > limit) {
      throw new MpApiError('malformed', `Materials Project API: malformed ${label}: ${env.data.length} documents, more than _limit = ${limit}`, { page });
    }
    const out: MpPage = { page, skip, totalDocuments: env.total, structures: [], errors: [] };
    env.data.forEach((doc, k) => {
      const index = skip + k;
      const where = { file: `Materials Project API ${label}`, field: `data[${k}]` };
      try {
        const s = structureFromMpDocument(doc, where);
        if (s.info.source === undefined) s.info.source = 'mp-api';
        out.structures.push({ structure: s, index });
      } catch (e) {
        if (!(e instanceof StructureError)) throw e;
        if (!r.lenient) throw new MpApiError('malformed', e.message, { page, cause: e });
        const id = isPlainObject(doc) && typeof doc['material_id'] === 'string' ? doc['material_id'] : undefined;
        out.errors.push({ index, id, message: e.message, error: e });
      }
    });
    yield out;
    skip += env.data.length;
    if (env.data.length < limit || skip >= r.maxDocuments || (env.total !== null && skip >= env.total)) return;
  }
}

/**
 * Every structure of the summary query (see {@link mpSummaryPages}) in server order, one at a
 * time. Documents that fail validation throw (or, with `lenient`, are skipped; use
 * {@link mpSummaryPages} to see them).
 */
export async function* fetchMpStructures(options: MpApiOptions = {}): AsyncGenerator<Structure, void, undefined> {
  for await (const page of mpSummaryPages(options)) {
    for (const { structure } of page.structures) yield structure;
  }
}
