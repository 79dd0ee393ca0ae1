/**
 * Fails a test file that leaves a pool, a worker or a server open: after its last hook,
 * no more TCP sockets or servers may be open than before its first.
 */
import { afterAll, beforeAll } from 'vitest';

const KINDS = ['TCPSocketWrap', 'TCPServerWrap'];
const count = () => process.getActiveResourcesInfo().filter((r) => KINDS.includes(r)).length;

let baseline = 0;

beforeAll(() => {
  baseline = count();
});

afterAll(async () => {
  // Sockets closed a moment ago may take a few ticks to be released.
  for (let i = 0; i < 50 && count() > baseline; i++) await new Promise((r) => setTimeout(r, 40));
  const open = count() - baseline;
  if (open > 0) {
    const detail = process.getActiveResourcesInfo().filter((r) => KINDS.includes(r));
    throw new Error(`this test file left ${open} socket(s) or server(s) open: ${detail.join(', ')}`);
  }
});
