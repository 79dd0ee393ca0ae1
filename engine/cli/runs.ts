import { didYouMean } from '../connector-sdk/index.ts';
import { locateRun } from '../db/runs.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { CliError, type Command, UsageError } from './command.ts';
import { parseCommandArgs } from './main.ts';
import { formatRun, parseTimeout } from './run.ts';
import { auditCli, requireTenant, withServices } from './services.ts';

const ACTIONS = ['list', 'show', 'retry', 'cancel'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const runs: Command = {
  name: 'runs',
  summary: 'List runs, show one, retry or cancel it',
  usage: `Usage: atlas runs list --tenant <id> [--workflow WF-xxx] [--status <status>] [--limit 20]
       atlas runs show <run id | last> [--wait [--timeout 60s]] [--format json]
       atlas runs retry <run id>
       atlas runs cancel <run id>

  list     the tenant's runs, newest first
  show     a run with every step (status, attempts, duration, output, error), as \`atlas run --wait\`
           prints it; \`last\` (with --tenant) is the tenant's newest run; --wait waits for its end
           (exit 1 unless it succeeded)
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
        wait: { type: 'boolean' },
        timeout: { type: 'string' },
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
    if (id === 'last' && !values.tenant)
      throw new UsageError('`last` needs --tenant: the newest run of which tenant?');
    if (id !== 'last' && !UUID.test(id))
      throw new UsageError(`"${id}" is not a run id (a UUID, as \`atlas runs list\` prints, or last)`);
    if (values.wait && action !== 'show') throw new UsageError('--wait goes with show');
    const timeoutMs = values.timeout ? parseTimeout(values.timeout) : 60_000;
    return withServices(io, async ({ runtime }, { db }) => {
      const row = await locateRun(db, id === 'last' ? { newestOf: values.tenant! } : { id });
      if (!row || (values.tenant !== undefined && values.tenant !== row.tenant_id))
        throw new CliError(
          id === 'last'
            ? `tenant ${values.tenant} has no runs`
            : `there is no run ${id}${values.tenant ? ` for tenant ${values.tenant}` : ''}`,
        );
      const tenantId = row.tenant_id;
      const runId = row.id;
      if (action === 'show') {
        const run = values.wait
          ? await runtime.runtime.waitForRun(tenantId, runId, timeoutMs)
          : await runtime.runtime.getRun(tenantId, runId);
        if (!run) throw new CliError(`there is no run ${runId}`);
        io.out(json ? JSON.stringify(run, null, 2) : formatRun(run));
        return !values.wait || run.status === 'succeeded' ? 0 : 1;
      }
      const verb = action as 'retry' | 'cancel';
      const run = await runtime.runtime[verb](tenantId, runId).catch(cliFailure);
      await auditCli(db, {
        tenantId,
        action: `runs.${verb}`,
        entityType: 'run',
        entityId: runId,
        summary: {},
      });
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
