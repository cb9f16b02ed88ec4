import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetchMpStructures, mpSummaryPages, parseRetryAfter, MpApiError, MP_SUMMARY_FIELDS, type MpApiOptions, type MpRetryEvent } from '../../src/io/mp-api.js';
import { loadBundled } from '../../src/io/bundled.js';
import type { Structure } from '../../src/structure/structure.js';
import { bundledMpDocuments, startMpServer, type MpFault, type MpServer } from '../helpers/mp-server.js';

const KEY = 'test-key-0123456789abcdef';
const servers: MpServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function server(faults: MpFault[] = [], documents = bundledMpDocuments(), extra: { maxRequests?: number } = {}): Promise<MpServer> {
  const s = await startMpServer({ documents, apiKey: KEY, faults, ...extra });
  servers.push(s);
  return s;
}

/** Options pointing at a loopback server, with a recorded no-wait sleep. */
function opts(s: MpServer, more: Partial<MpApiOptions> = {}): { options: MpApiOptions; sleeps: number[]; retries: MpRetryEvent[] } {
  const sleeps: number[] = [];
  const retries: MpRetryEvent[] = [];
  const options: MpApiOptions = {
    apiKey: KEY,
    baseUrl: s.baseUrl,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onRetry: (e) => retries.push(e),
    ...more,
  };
  return { options, sleeps, retries };
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function collect(options: MpApiOptions): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of fetchMpStructures(options)) ids.push(s.info.id!);
  return ids;
}

async function rejectsMp(p: Promise<unknown>, kind: MpApiError['kind'], re: RegExp): Promise<MpApiError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    assert.ok(e instanceof MpApiError, `expected an MpApiError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, re);
    assert.ok(!e.message.includes(KEY), 'the API key must never appear in a message');
    return true;
  });
  return caught as MpApiError;
}

test('every bundled structure arrives exactly once, in order, through a 429 (Retry-After) and a 500', async () => {
  const s = await server([
    { request: 2, status: 429, headers: { 'retry-after': '7' } },
    { request: 4, status: 500 },
  ]);
  const { options, sleeps, retries } = opts(s, { pageSize: 100, initialBackoffMs: 250 });
  const bundled = loadBundled('mp');
  const got: Structure[] = [];
  for await (const st of fetchMpStructures(options)) got.push(st);

  assert.deepEqual(got.map((x) => x.info.id), bundled.map((x) => x.info.id));
  assert.equal(new Set(got.map((x) => x.info.id)).size, 450);
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!;
    const b = bundled[i]!;
    assert.deepEqual(a.species, b.species, `species of ${b.info.id}`);
    // Exact values (the pymatgen dict writes -0 as 0, which compares equal).
    assert.ok(sameValues(a.lattice, b.lattice), `lattice of ${b.info.id}`);
    assert.ok(sameValues(a.frac, b.frac), `frac of ${b.info.id}`);
    assert.equal(a.info.source, 'mp-api');
    assert.equal(a.info['energy_above_hull'], (b.info['e_above_hull'] as number | null | undefined) ?? null);
    assert.ok(!('band_gap' in a.info), '_fields must keep unrequested fields out');
  }

  // 450 documents / 100 per page = 5 pages, plus one retry each for the 429 and the 500.
  assert.equal(s.requests.length, 7);
  assert.deepEqual(sleeps, [7000, 250]);
  assert.deepEqual(
    retries.map((r) => [r.page, r.attempt, r.status, r.reason]),
    [
      [2, 1, 429, 'HTTP 429'],
      [3, 1, 500, 'HTTP 500'],
    ],
  );
  const skips = s.requests.map((r) => r.url.searchParams.get('_skip'));
  assert.deepEqual(skips, ['0', '100', '100', '200', '200', '300', '400']);
  for (const r of s.requests) {
    assert.equal(r.headers['x-api-key'], KEY);
    assert.equal(r.url.pathname, '/materials/summary/');
    assert.equal(r.url.searchParams.get('elements'), 'F');
    assert.equal(r.url.searchParams.get('_limit'), '100');
    assert.equal(r.url.searchParams.get('_fields'), MP_SUMMARY_FIELDS.join(','));
    assert.ok(!r.url.href.includes(KEY), 'the key travels only in the header');
  }
});

test('pages report total_doc, skip and the query-wide index', async () => {
  const s = await server();
  const { options } = opts(s, { pageSize: 200 });
  const pages = [];
  for await (const p of mpSummaryPages(options)) pages.push(p);
  assert.deepEqual(pages.map((p) => [p.page, p.skip, p.totalDocuments, p.structures.length]), [
    [1, 0, 450, 200],
    [2, 200, 450, 200],
    [3, 400, 450, 50],
  ]);
  assert.deepEqual(pages[2]!.structures.map((x) => x.index), Array.from({ length: 50 }, (_, k) => 400 + k));
});

test('a full last page ends the query through total_doc, without an extra empty request', async () => {
  const s = await server([], bundledMpDocuments().slice(0, 300));
  const { options } = opts(s, { pageSize: 100 });
  assert.equal((await collect(options)).length, 300);
  assert.equal(s.requests.length, 3);
});

test('element is a parameter; maxDocuments stops early with a short last request', async () => {
  const docs = bundledMpDocuments();
  const s = await server([], docs);
  const withCa = docs.filter((d) => (d['elements'] as string[]).includes('Ca')).map((d) => d['material_id']);
  assert.ok(withCa.length > 3, 'the bundled set has Ca fluorides');
  const { options } = opts(s, { element: 'Ca', pageSize: 3 });
  assert.deepEqual(await collect(options), withCa);
  assert.ok(s.requests.every((r) => r.url.searchParams.get('elements') === 'Ca'));

  const s2 = await server([], docs);
  const { options: o2 } = opts(s2, { pageSize: 100, maxDocuments: 150 });
  assert.deepEqual(await collect(o2), docs.slice(0, 150).map((d) => d['material_id']));
  assert.deepEqual(s2.requests.map((r) => [r.url.searchParams.get('_skip'), r.url.searchParams.get('_limit')]), [
    ['0', '100'],
    ['100', '50'],
  ]);
});

test('filters are passed through as query parameters', async () => {
  const s = await server();
  const { options } = opts(s, { pageSize: 1000, filters: { deprecated: 'false' } });
  assert.equal((await collect(options)).length, 450);
  assert.equal(s.requests[0]!.url.searchParams.get('deprecated'), 'false');
});

test('the key comes from MP_API_KEY when not given', async () => {
  const s = await server();
  const saved = process.env['MP_API_KEY'];
  process.env['MP_API_KEY'] = KEY;
  try {
    const { options } = opts(s, { maxDocuments: 5 });
    delete options.apiKey;
    assert.equal((await collect(options)).length, 5);
    assert.equal(s.requests[0]!.headers['x-api-key'], KEY);
  } finally {
    if (saved === undefined) delete process.env['MP_API_KEY'];
    else process.env['MP_API_KEY'] = saved;
  }
});

test('a missing key fails before any request; a wrong key names the cause', async () => {
  const s = await server();
  const saved = process.env['MP_API_KEY'];
  delete process.env['MP_API_KEY'];
  try {
    const { options } = opts(s);
    delete options.apiKey;
    await rejectsMp(collect(options), 'auth', /^missing API key: set MP_API_KEY or pass --mp-api-key$/);
    await rejectsMp(collect({ ...options, apiKey: '  ' }), 'auth', /^missing API key: set MP_API_KEY or pass --mp-api-key$/);
    assert.equal(s.requests.length, 0);
  } finally {
    if (saved !== undefined) process.env['MP_API_KEY'] = saved;
  }
  const { options } = opts(s, { apiKey: 'wrong-key' });
  const e = await rejectsMp(collect(options), 'auth', /^invalid or missing API key: set MP_API_KEY or pass --mp-api-key \(HTTP 403 on page 1 \(_skip=0, _limit=1000\): Invalid API key\)$/);
  assert.equal(e.status, 403);
  assert.equal(e.page, 1);
  await rejectsMp(collect({ ...options, apiKey: 'bad key' }), 'auth', /^invalid API key \(contains whitespace or control characters\): set MP_API_KEY or pass --mp-api-key$/);
});

test('a 401 is an auth error too', async () => {
  const s = await server([{ request: 1, status: 401, body: '{"detail": "No API key found in request"}' }]);
  await rejectsMp(collect(opts(s).options), 'auth', /invalid or missing API key: .*HTTP 401 on page 1 .*No API key found in request/);
});

test('malformed pages are named', async () => {
  const cases: [string, RegExp][] = [
    ['<html>oops</html>', /^Materials Project API: malformed page 2 \(_skip=100, _limit=100\): not valid JSON \(.*\); body starts "<html>oops<\/html>"$/],
    [`echo ${KEY}`, /malformed page 2 .*: not valid JSON \(.*\); body starts "echo \*\*\*"$/],
    ['[1, 2]', /malformed page 2 \(_skip=100, _limit=100\): expected an object \{"data": \[...\], "meta": \{...\}\}, got an array/],
    ['{"data": {"material_id": "mp-1"}}', /malformed page 2 .*: "data" must be a list of documents, got an object/],
    ['{"data": [], "meta": 3}', /malformed page 2 .*: "meta" must be an object, got 3/],
    ['{"data": [], "meta": {"total_doc": -1}}', /malformed page 2 .*: meta.total_doc must be an integer ≥ 0, got -1/],
  ];
  for (const [body, re] of cases) {
    const s = await server([{ request: 2, status: 200, body }]);
    const e = await rejectsMp(collect(opts(s, { pageSize: 100 }).options), 'malformed', re);
    assert.equal(e.page, 2, body);
    assert.equal(s.requests.length, 2, 'a malformed page is not retried');
  }
  const docs = bundledMpDocuments().slice(0, 3);
  const s = await server([{ request: 1, status: 200, body: JSON.stringify({ data: docs, meta: { total_doc: 3 } }) }]);
  await rejectsMp(collect(opts(s, { pageSize: 2 }).options), 'malformed', /^Materials Project API: malformed page 1 \(_skip=0, _limit=2\): 3 documents, more than _limit = 2$/);
});

test('a document that does not validate: strict names page and entry, lenient reports it and goes on', async () => {
  const docs = bundledMpDocuments().slice(0, 6);
  const bad = docs[3]!;
  const badId = bad['material_id'];
  (bad['structure'] as Record<string, unknown>)['lattice'] = { matrix: [[1, 0, 0], [0, 1, 0]] };
  const s = await server([], docs);
  const e = await rejectsMp(collect(opts(s, { pageSize: 2 }).options), 'malformed', /^Materials Project API page 2 \(_skip=2, _limit=2\): data\[1\]\.structure\.lattice\.matrix: expected a 3x3 matrix/);
  assert.equal(e.page, 2);

  const s2 = await server([], docs);
  const pages = [];
  for await (const p of mpSummaryPages(opts(s2, { pageSize: 2, lenient: true }).options)) pages.push(p);
  const errors = pages.flatMap((p) => p.errors);
  assert.deepEqual(errors.map((x) => [x.index, x.id]), [[3, badId]]);
  assert.match(errors[0]!.message, /data\[1\]\.structure\.lattice\.matrix/);
  assert.deepEqual(pages.flatMap((p) => p.structures.map((x) => x.index)), [0, 1, 2, 4, 5]);
  assert.equal((await collect(opts(await server([], docs), { pageSize: 2, lenient: true }).options)).length, 5);
});

test('retries give up after maxRetries with the last cause', async () => {
  const s = await server([1, 2, 3].map((request) => ({ request, status: 503 })));
  const { options, sleeps } = opts(s, { maxRetries: 2, initialBackoffMs: 100 });
  const e = await rejectsMp(collect(options), 'retries', /^Materials Project API: page 1 \(_skip=0, _limit=1000\) failed after 3 attempts; last error: HTTP 503$/);
  assert.equal(e.page, 1);
  assert.deepEqual(sleeps, [100, 200]);
  assert.equal(e.status, 503);
  assert.equal(s.requests.length, 3);
});

test('exponential back-off is capped by maxBackoffMs', async () => {
  const s = await server([1, 2, 3, 4].map((request) => ({ request, status: 502 })));
  const { options, sleeps } = opts(s, { maxRetries: 5, initialBackoffMs: 1000, maxBackoffMs: 3000, maxDocuments: 2 });
  assert.equal((await collect(options)).length, 2);
  assert.deepEqual(sleeps, [1000, 2000, 3000, 3000]);
});

test('Retry-After as an HTTP date uses the injected clock; one beyond maxRetryAfterMs is an error', async () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const s = await server([{ request: 1, status: 429, headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:12 GMT' } }]);
  const { options, sleeps } = opts(s, { now: () => now, maxDocuments: 1 });
  assert.equal((await collect(options)).length, 1);
  assert.deepEqual(sleeps, [12_000]);

  const s2 = await server([{ request: 1, status: 429, headers: { 'retry-after': '3600' } }]);
  await rejectsMp(collect(opts(s2, { maxRetryAfterMs: 60_000 }).options), 'retries', /HTTP 429 on page 1 .* with Retry-After 3600 s, more than maxRetryAfterMs = 60000 ms/);
});

test('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('5', now), 5000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now), 60_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter(null, now), null);
  assert.equal(parseRetryAfter('-3', now), null);
  assert.equal(parseRetryAfter('soon', now), null);
});

test('other 4xx are not retried and quote the server, with the key masked', async () => {
  const s = await server([{ request: 1, status: 400, body: JSON.stringify({ detail: `bad request from key ${KEY}` }) }]);
  const e = await rejectsMp(collect(opts(s).options), 'http', /^Materials Project API: HTTP 400 on page 1 \(_skip=0, _limit=1000\): bad request from key \*\*\*$/);
  assert.equal(e.status, 400);
  assert.equal(s.requests.length, 1);

  const s2 = await server();
  await rejectsMp(collect(opts(s2, { baseUrl: `${s2.baseUrl}/v9` }).options), 'http', /HTTP 404 on page 1 .*: Not Found$/);

  const s3 = await server([{ request: 1, status: 422, body: JSON.stringify({ detail: [{ loc: ['query', '_limit'], msg: 'too large' }] }) }]);
  await rejectsMp(collect(opts(s3).options), 'http', /HTTP 422 on page 1 .*: query\._limit: too large$/);
});

test('a timeout and a network failure are retried', async () => {
  const s = await server([{ request: 1, delayMs: 5000 }]);
  const { options, retries } = opts(s, { timeoutMs: 100, maxDocuments: 3 });
  assert.equal((await collect(options)).length, 3);
  assert.deepEqual(retries.map((r) => [r.status, r.reason]), [[null, 'timeout after 100 ms']]);

  const s2 = await server();
  let calls = 0;
  const flaky: typeof fetch = async (input, init) => {
    calls++;
    if (calls === 1) throw new TypeError('fetch failed', { cause: new Error('connect ECONNRESET') });
    return fetch(input, init);
  };
  const o2 = opts(s2, { fetch: flaky, maxDocuments: 3 });
  assert.equal((await collect(o2.options)).length, 3);
  assert.deepEqual(o2.retries.map((r) => r.reason), ['network: connect ECONNRESET']);

  // A network message that quotes the key (a proxy echoing headers, say) is masked.
  const leaky: typeof fetch = async () => {
    throw new TypeError(`fetch failed for ${KEY}`);
  };
  const o3 = opts(s2, { fetch: leaky, maxRetries: 1 });
  const e = await rejectsMp(collect(o3.options), 'retries', /last error: network: fetch failed for \*\*\*$/);
  assert.equal(e.status, undefined);
  assert.deepEqual(o3.retries.map((r) => r.reason), ['network: fetch failed for ***']);
});

test('an aborted query stops with kind aborted', async () => {
  const s = await server();
  const ac = new AbortController();
  ac.abort();
  await rejectsMp(collect(opts(s, { signal: ac.signal }).options), 'aborted', /^Materials Project query aborted before page 1 \(_skip=0, _limit=1000\)$/);

  const s2 = await server([{ request: 1, delayMs: 5000 }]);
  const ac2 = new AbortController();
  setTimeout(() => ac2.abort(), 50);
  await rejectsMp(collect(opts(s2, { signal: ac2.signal }).options), 'aborted', /^Materials Project query aborted during page 1/);

  // The default back-off wait (a real timer) ends as soon as the query is aborted.
  const s3 = await server([{ request: 1, status: 429, headers: { 'retry-after': '30' } }]);
  const ac3 = new AbortController();
  const { options } = opts(s3, { signal: ac3.signal, onRetry: () => setTimeout(() => ac3.abort(), 20) });
  delete options.sleep;
  const t0 = Date.now();
  await rejectsMp(collect(options), 'aborted', /^Materials Project query aborted before page 1/);
  assert.ok(Date.now() - t0 < 5000, 'the 30 s Retry-After wait was cut short');
});

test('option validation names the option and the value', async () => {
  const s = await server();
  const cases: [Partial<MpApiOptions>, RegExp][] = [
    [{ pageSize: 0 }, /^pageSize must be an integer in 1 … 1000, got 0$/],
    [{ pageSize: 1001 }, /^pageSize must be an integer in 1 … 1000, got 1001$/],
    [{ pageSize: 2.5 }, /^pageSize must be an integer in 1 … 1000, got 2.5$/],
    [{ maxDocuments: 0 }, /^maxDocuments must be an integer ≥ 1, got 0$/],
    [{ maxRetries: -1 }, /^maxRetries must be an integer in 0 … 100, got -1$/],
    [{ initialBackoffMs: Number.NaN }, /^initialBackoffMs must be a finite number of ms ≥ 0, got NaN$/],
    [{ maxBackoffMs: -1 }, /^maxBackoffMs must be a finite number of ms ≥ 0, got -1$/],
    [{ maxRetryAfterMs: Infinity }, /^maxRetryAfterMs must be a finite number of ms ≥ 0, got Infinity$/],
    [{ timeoutMs: -5 }, /^timeoutMs must be a finite number of ms ≥ 0, got -5$/],
    [{ element: 'Xx' }, /^element must be an element symbol such as "F", got "Xx"$/],
    [{ baseUrl: 'not a url' }, /^baseUrl must be an http\(s\) URL, got "not a url"$/],
    [{ baseUrl: 'ftp://example.org' }, /^baseUrl must be an http\(s\) URL, got "ftp:\/\/example.org"$/],
    [{ baseUrl: 'http://example.org/?a=1' }, /^baseUrl must not carry a query or fragment, got "http:\/\/example.org\/\?a=1"$/],
    [{ filters: { _limit: '5' } }, /^filters: "_limit" is set by the client itself \(element, pageSize\)$/],
    [{ filters: { deprecated: false as unknown as string } }, /^filters: "deprecated" must be a string, got false$/],
    [{ fetch: 42 as unknown as typeof fetch }, /^no fetch implementation: /],
  ];
  for (const [o, re] of cases) await rejectsMp(collect(opts(s, o).options), 'options', re);
  assert.equal(s.requests.length, 0);
});

test('the loopback server stops itself after its request budget', async () => {
  const s = await startMpServer({ documents: bundledMpDocuments().slice(0, 4), apiKey: KEY, maxRequests: 2 });
  servers.push(s);
  const { options } = opts(s, { pageSize: 1, maxRetries: 0 });
  await assert.rejects(collect(options), MpApiError);
  await s.closed;
  assert.equal(s.requests.length, 2);
});

test('a page body over maxPageBytes ends the query with the limit named: by its Content-Length, and counted as it streams', async () => {
  const docs = bundledMpDocuments().slice(0, 2);
  const big = JSON.stringify({ data: docs, meta: { total_doc: 2 }, padding: 'x'.repeat(200_000) });
  const s = await server([{ request: 1, status: 200, body: big }]);
  await rejectsMp(
    collect(opts(s, { maxPageBytes: 100_000 }).options),
    'malformed',
    /^Materials Project API: page 1 \(_skip=0, _limit=1000\): the response body is more than 97\.7 KiB, over the limit of 97\.7 KiB \(maxPageBytes\); ask for smaller pages \(pageSize\)$/,
  );
  const declared = async (): Promise<Response> => new Response(big, { status: 200, headers: { 'content-length': String(Buffer.byteLength(big)) } });
  await rejectsMp(
    collect({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9', fetch: declared, maxPageBytes: 100_000 }),
    'malformed',
    /^Materials Project API: page 1 \(_skip=0, _limit=1000\): the response body is 19\d\.\d KiB \(Content-Length\), over the limit of 97\.7 KiB \(maxPageBytes\)/,
  );
  // No Content-Length: chunks are counted and the stream is cancelled past the limit.
  let sent = 0;
  let cancelled = false;
  const endless = (): Response =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(c) {
          sent += 65536;
          c.enqueue(new Uint8Array(65536).fill(0x20));
        },
        cancel() {
          cancelled = true;
        },
      }),
      { status: 200 },
    );
  await rejectsMp(collect({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9', fetch: async () => endless(), maxPageBytes: 1_000_000 }), 'malformed', /the response body is more than 976\.6 KiB, over the limit of 976\.6 KiB \(maxPageBytes\)/);
  assert.ok(cancelled, 'the stream was cancelled');
  assert.ok(sent <= 1_000_000 + 3 * 65536, `${sent} bytes pulled`);
  // Within the limit the page is read as before.
  const ok = await server([], docs);
  assert.equal((await collect(opts(ok, { maxPageBytes: 1_000_000 }).options)).length, 2);
  await rejectsMp(collect(opts(ok, { maxPageBytes: 0 }).options), 'options', /^maxPageBytes must be an integer in 1 … 536870888, got 0$/);
});
