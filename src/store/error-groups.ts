/**
 * Grouping failed rows by cause, the same for every backend: the message with what differs from row
 * to row taken out (see ErrorGroup.message in src/store/interface.ts).
 */
import type { ErrorGroup } from './interface.js';

const ABSOLUTE_PATH = /(^|[\s'"`(=[,])((?:\/|[A-Za-z]:\\)[^\s'"`,;:()[\]{}<>]*[^\s'"`,;:()[\]{}<>.])/g;

function escapeRegExp(t: string): string {
  return t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `message` with each value of `parts` (where it stands as a whole word) replaced by its
 * placeholder, absolute paths by `<path>` (collected into `paths`), `:<digits>` after a path or file
 * placeholder by `:<line>`, and `[<digits>]` by `[<i>]`.
 */
export function errorCause(message: string, parts: readonly [string | null | undefined, string][], paths: string[]): string {
  // Paths first: a path that holds the key (an output folder named after it) goes out whole.
  let m = message.replace(ABSOLUTE_PATH, (all: string, pre: string, path: string) => {
    if (parts.some(([v]) => v === path)) return all;
    paths.push(path);
    return `${pre}<path>`;
  });
  // Longest first, so that a key holding the structure id is replaced as a whole.
  for (const [value, placeholder] of [...parts].sort((a, b) => (b[0]?.length ?? 0) - (a[0]?.length ?? 0))) {
    if (!value || value.length < 2) continue;
    m = m.replace(new RegExp(`(?<![A-Za-z0-9_])${escapeRegExp(value)}(?![A-Za-z0-9_])`, 'g'), placeholder);
  }
  return m.replace(/(<path>|<file>):\d+(?=:)/g, '$1:<line>').replace(/\[\d+\]/g, '[<i>]');
}

export interface Grouping {
  group: ErrorGroup;
  paths: Set<string>;
}

export function addToGroup(groups: Map<string, Grouping>, key: string, make: () => ErrorGroup, example: string, paths: readonly string[], attempts: number): void {
  let g = groups.get(key);
  if (!g) groups.set(key, (g = { group: make(), paths: new Set() }));
  g.group.rows++;
  if (g.group.examples.length < 3) g.group.examples.push(example);
  g.group.attempts = Math.max(g.group.attempts, attempts);
  for (const p of paths) if (g.paths.size < 3) g.paths.add(p);
}

export function sortedGroups(groups: Map<string, Grouping>): ErrorGroup[] {
  return [...groups.values()]
    .map((g) => ({ ...g.group, paths: [...g.paths] }))
    .sort((a, b) => b.rows - a.rows || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}

/** Failed rows of one stage (key, last error, attempts, structure id when the stage has one) grouped by cause. */
export function groupStageErrors(stage: string, rows: readonly [string, string | null, number, string | null | undefined][]): ErrorGroup[] {
  const groups = new Map<string, Grouping>();
  for (const [key, error, attempts, id] of rows) {
    const paths: string[] = [];
    const message = error === null ? '(no message)' : errorCause(error, [[key, '<key>'], [id, '<id>']], paths);
    addToGroup(groups, message, () => ({ stage, message, rows: 0, examples: [], paths: [], attempts: 0 }), key, paths, attempts);
  }
  return sortedGroups(groups);
}

/** The pseudo-stage name under which `errors` lists import errors (the table's name). */
export const IMPORT_ERRORS = 'import_errors';

/** Import errors (in the order recorded) grouped by dataset and cause, most frequent first. */
export function groupImportErrors(rows: readonly { dataset: string; source_id: string | null; message: string; file: string | null; record_id: string | null }[]): ErrorGroup[] {
  const groups = new Map<string, Grouping>();
  for (const r of rows) {
    const paths: string[] = [];
    const message = errorCause(r.message, [[r.source_id, '<id>'], [r.file, '<file>'], [r.record_id, '<record>']], paths);
    if (r.file !== null) paths.unshift(r.file);
    addToGroup(groups, `${r.dataset}\n${message}`, () => ({ stage: IMPORT_ERRORS, dataset: r.dataset, message, rows: 0, examples: [], paths: [], attempts: 1 }), r.source_id ?? r.file ?? '?', [...new Set(paths)], 1);
  }
  return sortedGroups(groups);
}
