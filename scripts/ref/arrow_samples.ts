/**
 * Writes the engine's Arrow IPC sample files (test/helpers/arrow-samples.ts) into
 * test/fixtures/reference/arrow-readers, for scripts/ref/arrow_readers.py to read with pyarrow and
 * polars. Run: `npx tsx scripts/ref/arrow_samples.ts`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arrowSamples } from '../../test/helpers/arrow-samples.js';

const dir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'reference', 'arrow-readers');
for (const s of arrowSamples()) {
  writeFileSync(join(dir, `${s.name}.arrow`), s.bytes);
  console.log(`wrote ${s.name}.arrow (${s.bytes.length} bytes)`);
}
