// `atlas run` through a running engine's API: a token for the tenant, POST
// /v1/workflows/:id/runs, then GET /v1/runs/:id until the run ends. The engine validates,
// triggers and audits it as it does any API call, with `cli:<user>` as the actor.
import type { Config } from '../config.ts';
import type { RunDetail } from '../runtime/index.ts';
import { CliError, type CliIO } from './command.ts';
import { type EngineAnswer, engineRequest, engineToken } from './engine-client.ts';
import { printEnded, printStarted, refused, type StartOptions } from './run.ts';

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 50;

/**
 * The exit code, or undefined when the engine cannot take the run from this command (no
 * secret to sign with, a token it refuses, a process that no longer listens): the caller
 * then runs it in process.
 */
export async function runThroughEngine(
  io: CliIO,
  config: Config,
  url: string,
  o: StartOptions,
): Promise<number | undefined> {
  const token = await engineToken(config, {
    tenants: [o.tenantId],
    ttlSeconds: Math.ceil(o.timeoutMs / 1000) + 60,
  });
  if (token === undefined) return undefined;
  const headers = { 'x-tenant-id': o.tenantId };
  const started = await call(url, `/v1/workflows/${encodeURIComponent(o.workflowId)}/runs`, {
    method: 'POST',
    token,
    headers: { ...headers, ...(o.key === undefined ? {} : { 'idempotency-key': o.key }) },
    body: { input: o.input ?? {} },
  });
  if (!started) return undefined;
  const run = started.body as { id: string; status: string };
  if (!o.wait) return printStarted(io, o, run, started.headers['idempotent-replayed'] !== 'true');
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    // Started: from here on the engine has the run, and this command must not start another.
    const answer = await call(url, `/v1/runs/${run.id}`, { token, headers });
    if (!answer)
      throw new CliError(`the engine stopped answering; run ${run.id} goes on: atlas runs show ${run.id}`);
    const detail = answer.body as RunDetail;
    if (ENDED.has(detail.status) || Date.now() >= deadline) return printEnded(io, o, detail);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * The answer when 2xx; undefined when nothing reached the engine (the connection refused) or
 * it refuses the token; a CliError otherwise, since the engine may have acted on the request.
 */
async function call(
  engine: string,
  path: string,
  opts: Parameters<typeof engineRequest>[1],
): Promise<EngineAnswer | undefined> {
  let answer: EngineAnswer;
  try {
    answer = await engineRequest(`${engine}${path}`, opts);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return undefined;
    throw new CliError(`the engine at ${engine} did not answer: ${(err as Error).message}`);
  }
  if (answer.status === 401) return undefined;
  if (answer.status >= 200 && answer.status < 300) return answer;
  const problem = (answer.body ?? {}) as { detail?: string; title?: string; errors?: unknown };
  throw refused(problem.detail ?? problem.title ?? `the engine answered ${answer.status}`, problem.errors);
}
