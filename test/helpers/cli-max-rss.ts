/**
 * The fracflow CLI (src/cli/index.ts `main`) in this process, then this process's peak resident
 * memory on stderr as `MAX_RSS_KB <n>`: run in a child with a small `--max-old-space-size`, a test
 * sees both the command's result and what it cost in memory.
 * Usage: node --max-old-space-size=64 --import tsx test/helpers/cli-max-rss.ts import FILE --db DB
 */
import { main } from '../../src/cli/index.js';

await main([process.argv[0]!, 'fracflow', ...process.argv.slice(2)]);
process.stderr.write(`MAX_RSS_KB ${process.resourceUsage().maxRSS}\n`);
