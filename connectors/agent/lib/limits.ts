/**
 * The hard limits of one agent task (schemas/agent.schema.json `limits`): most model calls,
 * most tool calls, a token budget (the sum of the provider's `usage.total_tokens`) and a
 * wall-clock timeout. The defaults are the schema's.
 */
import { type AgentManifest, ConnectorError, parseDuration } from 'atlas-engine/sdk';
import type { Usage } from './completion.ts';

export interface Limits {
  maxTurns: number;
  maxToolCalls: number;
  tokenBudget: number;
  timeoutMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxTurns: 8,
  maxToolCalls: 20,
  tokenBudget: 50_000,
  timeoutMs: 120_000,
};

export function resolveLimits(limits: AgentManifest['limits']): Limits {
  return {
    maxTurns: limits?.maxTurns ?? DEFAULT_LIMITS.maxTurns,
    maxToolCalls: limits?.maxToolCalls ?? DEFAULT_LIMITS.maxToolCalls,
    tokenBudget: limits?.tokenBudget ?? DEFAULT_LIMITS.tokenBudget,
    timeoutMs: limits?.timeout === undefined ? DEFAULT_LIMITS.timeoutMs : parseDuration(limits.timeout),
  };
}

/** How far a task got: the output of a finished task, and the record of a stopped one. */
export interface Progress {
  turns: number;
  toolCalls: number;
  usage: Usage;
}

export function newProgress(): Progress {
  return { turns: 0, toolCalls: 0, usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } };
}

export function addUsage(progress: Progress, usage: Usage): void {
  progress.usage.prompt_tokens += usage.prompt_tokens;
  progress.usage.completion_tokens += usage.completion_tokens;
  progress.usage.total_tokens += usage.total_tokens;
}

export type LimitName = keyof Limits;

/**
 * A task stopped by a limit fails for good: running it again would spend the same budget
 * on the same way, and may repeat what its tools already did.
 */
export function limitExceeded(
  agentId: string,
  limit: LimitName,
  limits: Limits,
  progress: Progress,
): ConnectorError {
  const what = {
    maxTurns: `its ${limits.maxTurns} model calls (maxTurns)`,
    maxToolCalls: `its ${limits.maxToolCalls} tool calls (maxToolCalls)`,
    tokenBudget: `its budget of ${limits.tokenBudget} tokens (tokenBudget)`,
    timeoutMs: `its time (timeout, ${limits.timeoutMs} ms)`,
  }[limit];
  return ConnectorError.fatal(
    'limit_exceeded',
    `agent ${agentId} used up ${what} before it answered, after ${progress.turns} model calls, ` +
      `${progress.toolCalls} tool calls and ${progress.usage.total_tokens} tokens`,
  );
}
