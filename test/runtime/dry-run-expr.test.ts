import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import { makeConnectorRegistry } from '../../engine/connector-sdk/index.ts';
import { loadCatalogue, type Workflow } from '../../engine/manifest/index.ts';
import { dryRun } from '../../engine/runtime/dry-run.ts';
import { ROOT } from '../helpers/cli.ts';

describe('dry run of computed values and the run output', () => {
  it('renders $expr inputs with the sample trigger time as now, and plans the output', async () => {
    const { catalogue } = await loadCatalogue({
      connectors: builtinConnectors,
      dirs: [path.join(ROOT, 'manifests')],
    });
    const workflow = catalogue!.workflow('WF-007')!.manifest as Workflow;
    const connectors = makeConnectorRegistry(builtinConnectors);
    const input = {
      orderId: 'A-7',
      email: 'BOB@example.com',
      timeZone: 'America/New_York',
      lines: [{ sku: 'X', qty: 4, unitPrice: 1.25 }],
    };
    const plan = await dryRun({
      workflow,
      connectors,
      tenantId: 'demo',
      input,
      trigger: { type: 'manual', at: '2026-12-31T03:00:00.000Z' },
      tenantConfig: { chatId: '42' },
    });
    expect(plan.now).toBe('2026-12-31T03:00:00.000Z');
    expect(plan.readsNow).toBe(true);
    expect(plan.steps[0]).toMatchObject({
      action: 'run',
      outputSource: 'computed',
      output: {
        total: 5,
        units: 4,
        email: 'bob@example.com',
        dueAt: '2027-01-14T03:00:00.000Z',
        // 03:00 UTC is still the evening before in New York.
        dueDate: '13 January 2027',
      },
    });
    expect(plan.steps[1]).toMatchObject({ action: 'run', input: { chat_id: '42' }, outputSource: 'example' });
    // The message id comes from Telegram: only the action's example is known before the run.
    expect(plan.output).toEqual({
      value: { orderId: 'A-7', total: 5, dueAt: '2027-01-14T03:00:00.000Z', notified: true, messageId: 42 },
    });
  });
});
