import { defineConnector } from 'atlas-engine/sdk';
import { run } from './lib/actions/run.ts';

/** Workflows calling workflows: the runtime starts a child run and waits for it durably. */
export const workflow = defineConnector({
  id: 'workflow',
  description: 'Sub-workflows: run another workflow as a child run and use its output.',
  auth: { type: 'none' },
  actions: [run],
});
