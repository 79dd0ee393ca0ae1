// `atlas run` through a running engine's API: a token minted for the tenant, POST
// /v1/workflows/:id/runs, then GET /v1/runs/:id until the run ends. The engine validates,
// triggers and audits it as it does any API call, with `cli:<user>` as the actor.
import os from 'node:os';
import { resolveAuth } from '../auth/dev-secret.ts';
import { mintToken } from '../auth/mint.ts';
import type { Config } from '../config.ts';
import type { RunDetail } from '../runtime/index.ts';
import { CliError, type CliIO } from './command.ts';
import { printEnded, printStarted, refused, type StartOptions } from './run.ts';

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 50;

/**
 * The exit code, or undefined when the engine cannot take the run from this command (no
 * secret to sign with, a token it refuses, a process that no longer answers): the caller
 * then runs it in process.
 */
export async function runThroughEngine(
  io: CliIO,
  config: Config,
  url: string,
  o: StartOptions,
): Promise<number | undefined> {
  const { auth } = await resolveAuth(config);
  if (auth.jwtSecret === undefined) return undefined;
  const token = await mintToken({
    secret: auth.jwtSecret,
    sub: `cli:${os.userInfo().username}`,
    tenants: [o.tenantId],
    ttlSeconds: Math.ceil(o.timeoutMs / 1000) + 60,
    ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
    ...(auth.audience === undefined ? {} : { audience: auth.audience }),
  });
  const headers = { authorization: `Bearer ${token}`, 'x-tenant-id': o.tenantId };
  const started = await call(`${url}/v1/workflows/${encodeURIComponent(o.workflowId)}/runs`, url, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': 'application/json',
      ...(o.key === undefined ? {} : { 'idempotency-key': o.key }),
    },
    body: JSON.stringify({ input: o.input ?? {} }),
  });
  if (!started) return undefined;
  const run = (await started.json()) as { id: string; status: string };
  if (!o.wait) return printStarted(io, o, run, started.headers.get('idempotent-replayed') !== 'true');
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    // Started: from here on the engine has the run, and this command must not start another.
    const answer = await call(`${url}/v1/runs/${run.id}`, url, { headers });
    if (!answer)
      throw new CliError(`the engine stopped answering; run ${run.id} goes on: atlas runs show ${run.id}`);
    const detail = (await answer.json()) as RunDetail;
    if (ENDED.has(detail.status) || Date.now() >= deadline) return printEnded(io, o, detail);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * The answer when 2xx; undefined when nothing reached the engine (the connection refused) or
 * it refuses the token; a CliError otherwise, since the engine may have acted on the request.
 */
async function call(url: string, engine: string, init: RequestInit): Promise<Response | undefined> {
  let answer: Response;
  try {
    answer = await fetch(url, { ...init, redirect: 'error' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') return undefined;
    throw new CliError(`the engine at ${engine} did not answer: ${cause?.message ?? (err as Error).message}`);
  }
  if (answer.status === 401) return undefined;
  if (answer.ok) return answer;
  const problem = (await answer.json().catch(() => ({}))) as {
    detail?: string;
    title?: string;
    errors?: unknown;
  };
  throw refused(problem.detail ?? problem.title ?? `the engine answered ${answer.status}`, problem.errors);
}
