import { defineConnector } from 'atlas-engine/sdk';
import { fail } from './lib/actions/fail.ts';
import { log } from './lib/actions/log.ts';
import { noop } from './lib/actions/noop.ts';
import { set } from './lib/actions/set.ts';
import { sleep } from './lib/actions/sleep.ts';

/** Built-in steps with no provider: shaping data, logging, waiting, and failing on purpose for tests. */
export const core = defineConnector({
  id: 'core',
  description: 'Built-in steps: noop, log, set, sleep, fail.',
  auth: { type: 'none' },
  actions: [noop, log, set, sleep, fail],
});
