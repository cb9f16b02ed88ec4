/**
 * The layers of src/, enforced in CI (`npm run depcheck`): imports point one way,
 *
 *   structure → kernels → analysis → io → stage-kit → stages → store → engine | server → workflow → cli
 *
 * (a layer imports only layers to its left; engine and server stand side by side, above the store and
 * unaware of each other; src/paths.ts and src/types are shared), and the database driver is imported
 * by the store's connection module alone.
 */
const LAYERS = ['structure', 'kernels', 'analysis', 'io', 'stage-kit', 'stages', 'store', ['engine', 'server'], 'workflow', 'cli'];

const names = (level) => (Array.isArray(level) ? level : [level]);
const layerRules = LAYERS.slice(0, -1).flatMap((level, i) =>
  names(level).map((layer) => {
    const above = LAYERS.slice(i + 1).flatMap(names);
    const beside = names(level).filter((l) => l !== layer);
    const forbidden = [...beside, ...above];
    return {
      name: `${layer}-imports-only-lower-layers`,
      comment: `src/${layer} may import only ${LAYERS.slice(0, i).flatMap(names).join(', ') || 'no other layer'} (imports point one way: ${LAYERS.map((l) => names(l).join(' | ')).join(' → ')})`,
      severity: 'error',
      from: { path: `^src/${layer}/` },
      to: { path: `^src/(${forbidden.join('|')})/` },
    };
  }),
);

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'stages-are-pure',
      comment: 'a stage module holds its declaration and a pure work function: no I/O module (files go to the sink, programs to ctx.exec)',
      severity: 'error',
      from: { path: '^src/stages/' },
      to: { path: '^src/io/' },
    },
    {
      name: 'stages-touch-no-files-or-processes',
      comment: 'a stage reaches files and programs through the engine (ctx.exec, the sink), never through node:fs or node:child_process',
      severity: 'error',
      from: { path: '^src/(stages|stage-kit)/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(fs|fs/promises|child_process|net|http|https|worker_threads)$' },
    },
    {
      name: 'one-importer-of-the-sqlite-driver',
      comment: 'only the SQLite connection module imports better-sqlite3',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/sqlite/connection\\.ts$' },
      to: { path: 'node_modules/better-sqlite3/' },
    },
    {
      name: 'one-importer-of-the-postgres-driver',
      comment: 'only the PostgreSQL backend imports pg',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/postgres/' },
      to: { path: 'node_modules/pg/' },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|build)/' },
  },
};
