import { didYouMean } from '../connector-sdk/index.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { CliError, type Command, UsageError } from './command.ts';
import { parseCommandArgs } from './main.ts';
import { formatRun } from './run.ts';
import { auditCli, requireTenant, withServices } from './services.ts';

const ACTIONS = ['list', 'show', 'retry', 'cancel'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const runs: Command = {
  name: 'runs',
  summary: 'List runs, show one, retry or cancel it',
  usage: `Usage: atlas runs list --tenant <id> [--workflow WF-xxx] [--status <status>] [--limit 20]
       atlas runs show <run id> [--format json]
       atlas runs retry <run id>
       atlas runs cancel <run id>

  list     the tenant's runs, newest first
  show     a run with every step (status, attempts, duration, output, error), as \`atlas run --wait\` prints it
  retry    run a failed (or cancelled) run's failed steps again, keeping the outputs of the others
  cancel   cancel a queued or running run

A run id names its tenant; --tenant, when given, must be it.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(
      args,
      {
        tenant: { type: 'string' },
        workflow: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string' },
        format: { type: 'string' },
      },
      true,
    );
    const [action, id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"`);
    if (!(ACTIONS as readonly (string | undefined)[]).includes(action)) {
      const hint = action ? didYouMean(action, ACTIONS) : '';
      throw new UsageError(action ? `unknown action "${action}"${hint}` : 'an action is required');
    }
    if (values.format !== undefined && values.format !== 'json' && values.format !== 'text')
      throw new UsageError('--format is text or json');
    const json = values.format === 'json';
    if (action === 'list') {
      if (id !== undefined) throw new UsageError('list takes no run id');
      const tenantId = values.tenant;
      if (!tenantId) throw new UsageError('--tenant is required');
      const limit = values.limit === undefined ? 20 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        throw new UsageError('--limit is a whole number from 1 to 100');
      return withServices(io, async ({ runtime }, { db }) => {
        await requireTenant(db, tenantId);
        const page = await runtime.runtime
          .listRuns(tenantId, { limit, workflowId: values.workflow, status: values.status })
          .catch(cliFailure);
        if (json) io.out(JSON.stringify(page, null, 2));
        else if (page.items.length === 0) io.out(`No runs for tenant ${tenantId}.`);
        for (const r of json ? [] : page.items) {
          io.out(`${r.id}  ${r.workflowId}  ${r.status.padEnd(9)}  ${r.createdAt}`);
        }
        return 0;
      });
    }
    if (id === undefined) throw new UsageError(`${action} needs a run id`);
    if (!UUID.test(id))
      throw new UsageError(`"${id}" is not a run id (a UUID, as \`atlas runs list\` prints)`);
    return withServices(io, async ({ runtime }, { db }) => {
      const row = await db('runs').where({ id }).first<{ tenant_id: string } | undefined>('tenant_id');
      if (!row || (values.tenant !== undefined && values.tenant !== row.tenant_id))
        throw new CliError(`there is no run ${id}${values.tenant ? ` for tenant ${values.tenant}` : ''}`);
      const tenantId = row.tenant_id;
      if (action === 'show') {
        const run = await runtime.runtime.getRun(tenantId, id);
        if (!run) throw new CliError(`there is no run ${id}`);
        io.out(json ? JSON.stringify(run, null, 2) : formatRun(run));
        return 0;
      }
      const verb = action as 'retry' | 'cancel';
      const run = await runtime.runtime[verb](tenantId, id).catch(cliFailure);
      await auditCli(db, { tenantId, action: `runs.${verb}`, entityType: 'run', entityId: id, summary: {} });
      io.out(
        json
          ? JSON.stringify(run)
          : `${verb === 'retry' ? 'Retrying' : 'Cancelled'} run ${run.id} of ${run.workflowId} (${run.status}). Follow it: atlas runs show ${run.id}`,
      );
      return 0;
    });
  },
};

function cliFailure(err: unknown): never {
  if (err instanceof RuntimeError) throw new CliError(err.message);
  throw err;
}
