// Preloaded by test/foundation/heap-limit.test.ts: prints the V8 heap limit the process got.
const { getHeapStatistics } = require('node:v8');
process.stdout.write(`heap limit: ${Math.round(getHeapStatistics().heap_size_limit / 2 ** 20)} MB\n`);
