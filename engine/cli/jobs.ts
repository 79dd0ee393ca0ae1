import { locateJob } from '../db/jobs.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { CliError, type Command, UsageError } from './command.ts';
import { parseCommandArgs } from './main.ts';
import { auditCli, withServices } from './services.ts';

const ACTIONS = ['show', 'retry', 'cancel'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const jobs: Command = {
  name: 'jobs',
  summary: 'Show a typed job, retry or cancel it',
  usage: `Usage: atlas jobs show <job id> [--format json]
       atlas jobs retry <job id>
       atlas jobs cancel <job id>

  show     a job: status, attempts, last error, result
  retry    run a job that failed for good (or was cancelled) again, with a fresh attempt budget
  cancel   cancel a queued, waiting or running job (a running attempt is aborted)

A job id names its tenant; --tenant, when given, must be it.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(
      args,
      { tenant: { type: 'string' }, format: { type: 'string' } },
      true,
    );
    const [action, id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"`);
    if (!(ACTIONS as readonly (string | undefined)[]).includes(action))
      throw new UsageError(action ? `unknown action "${action}"` : 'an action is required');
    if (values.format !== undefined && values.format !== 'json' && values.format !== 'text')
      throw new UsageError('--format is text or json');
    if (id === undefined) throw new UsageError(`${action} needs a job id`);
    if (!UUID.test(id)) throw new UsageError(`"${id}" is not a job id (a UUID)`);
    return withServices(io, async ({ runtime }, { db }) => {
      const row = await locateJob(db, id);
      if (!row || (values.tenant !== undefined && values.tenant !== row.tenant_id))
        throw new CliError(`there is no job ${id}${values.tenant ? ` for tenant ${values.tenant}` : ''}`);
      const tenantId = row.tenant_id;
      if (action === 'show') {
        const job = await runtime.runtime.getJob(tenantId, id);
        if (!job) throw new CliError(`there is no job ${id}`);
        io.out(
          values.format === 'json'
            ? JSON.stringify(job, null, 2)
            : `${job.id}  ${job.type}  ${job.status}  attempt ${job.attempts}/${job.maxAttempts}`,
        );
        return 0;
      }
      const verb = action as 'retry' | 'cancel';
      const job = await runtime.runtime[verb === 'retry' ? 'retryJob' : 'cancelJob'](tenantId, id).catch(
        (err: unknown) => {
          throw err instanceof RuntimeError ? new CliError(err.message) : err;
        },
      );
      await auditCli(db, { tenantId, action: `jobs.${verb}`, entityType: 'job', entityId: id, summary: {} });
      io.out(
        values.format === 'json'
          ? JSON.stringify(job)
          : `${verb === 'retry' ? 'Retrying' : 'Cancelled'} ${job.type} job ${job.id} (${job.status}). Follow it: atlas jobs show ${job.id}`,
      );
      return 0;
    });
  },
};
