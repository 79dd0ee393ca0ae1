/**
 * The agent task: a loop over chat completions in which every tool call the model asks for
 * runs as a connector action, and its result goes back to the model, until the model answers
 * without calling a tool or a limit stops it. Each model call and each tool call is recorded
 * with `ctx.trace`, so the job (or the workflow step) shows them as its own steps.
 */

import {
  type ActionContext,
  type AgentDirectory,
  type AgentManifest,
  ConnectorError,
  type TraceEvent,
} from 'atlas-engine/sdk';
import type OpenAI from 'openai';
import { modelClient } from '../client.ts';
import {
  assistantMessage,
  complete,
  type Message,
  type Reply,
  type ToolCall,
  type Usage,
} from './completion.ts';
import { resolvePolicies } from './guard.ts';
import { addUsage, type Limits, limitExceeded, newProgress, type Progress, resolveLimits } from './limits.ts';
import {
  makeToolset,
  resultContent,
  runTool,
  type ToolOutcome,
  type Toolset,
  UNTRUSTED_NOTE,
} from './tools.ts';

export interface AgentTaskInput {
  agent: string;
  task: string;
  context?: Record<string, unknown>;
}

export interface AgentTaskOutput {
  answer: string;
  turns: number;
  toolCalls: number;
  usage: Usage;
}

interface Task {
  ctx: ActionContext;
  agent: AgentManifest;
  actions: AgentDirectory['actions'];
  client: OpenAI;
  /** The model key is the platform's: every model call spends the tenant's daily token budget. */
  platform: boolean;
  toolset: Toolset;
  limits: Limits;
  progress: Progress;
  messages: Message[];
  /** The agent's own timeout; `signal` also carries the step's timeout and cancellation. */
  timeout: AbortSignal;
  signal: AbortSignal;
  /** Tool calls the model asked for, within the budget or not (names the trace rows). */
  requested: number;
  /** Whether an action has run: from then on, repeating the task could repeat its effects. */
  acted: boolean;
  /** Calls of each action that ran, for the tools' `maxCalls`. */
  runs: Map<string, number>;
}

export async function runAgentTask(
  ctx: ActionContext,
  directory: AgentDirectory,
  input: AgentTaskInput,
): Promise<AgentTaskOutput> {
  const agent = directory.agent(input.agent);
  if (!agent)
    throw ConnectorError.fatal('unknown_agent', `there is no agent "${input.agent}" in the catalogue`);
  const limits = resolveLimits(agent.limits);
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const { client, platform } = await modelClient(ctx, agent.model);
  const task: Task = {
    ctx,
    agent,
    actions: directory.actions,
    client,
    platform,
    toolset: makeToolset(agent, directory.actions, await resolvePolicies(agent, ctx.secret)),
    limits,
    progress: newProgress(),
    messages: firstMessages(agent, input),
    timeout,
    signal: AbortSignal.any([ctx.signal, timeout]),
    requested: 0,
    acted: false,
    runs: new Map(),
  };
  try {
    return await loop(task);
  } catch (err) {
    throw await stopped(task, err);
  }
}

function firstMessages(agent: AgentManifest, input: AgentTaskInput): Message[] {
  const context =
    input.context === undefined ? '' : `\n\nContext (JSON):\n${JSON.stringify(input.context, null, 2)}`;
  return [
    { role: 'system', content: `${agent.instructions}\n\n${UNTRUSTED_NOTE}` },
    { role: 'user', content: `${input.task}${context}` },
  ];
}

async function loop(task: Task): Promise<AgentTaskOutput> {
  const { limits, progress } = task;
  for (;;) {
    // On the last turn the limits allow, the model is offered no tool: it answers with what it has.
    const lastTurn = progress.turns + 1 >= limits.maxTurns;
    const noToolsLeft = progress.toolCalls >= limits.maxToolCalls;
    const reply = await modelTurn(task, lastTurn || noToolsLeft ? 'none' : 'auto');
    if (reply.toolCalls.length === 0) return { answer: reply.content ?? '', ...progress };
    if (noToolsLeft) throw limitExceeded(task.agent.id, 'maxToolCalls', limits, progress);
    if (lastTurn) throw limitExceeded(task.agent.id, 'maxTurns', limits, progress);
    if (progress.usage.total_tokens >= limits.tokenBudget)
      throw limitExceeded(task.agent.id, 'tokenBudget', limits, progress);
    task.messages.push(assistantMessage(reply));
    // Every tool call gets its tool message, or the next request is invalid.
    for (const call of reply.toolCalls) task.messages.push(await toolTurn(task, call));
  }
}

async function modelTurn(task: Task, toolChoice: 'auto' | 'none'): Promise<Reply> {
  const { model } = task.agent;
  const n = task.progress.turns + 1;
  const input = { provider: model.provider, model: model.model, messages: task.messages.length, toolChoice };
  const t0 = performance.now();
  let reply: Reply;
  try {
    if (task.platform) await task.ctx.platform.checkTokens();
    reply = await complete(
      task.client,
      {
        model: model.model,
        temperature: model.temperature,
        messages: task.messages,
        tools: task.toolset.definitions,
        toolChoice,
      },
      task.signal,
      model.provider,
    );
  } catch (err) {
    await trace(task, {
      name: `model#${n}`,
      status: 'failed',
      input,
      error: ledgerError(errorJson(err)),
      durationMs: since(t0),
    });
    throw err;
  }
  task.progress.turns = n;
  addUsage(task.progress, reply.usage);
  if (task.platform) await task.ctx.platform.spendTokens(reply.usage.total_tokens);
  const output = {
    model: reply.model,
    content: reply.content,
    toolCalls: reply.toolCalls.map((c) => ({
      name: c.name,
      uses: task.toolset.uses(c.name) ?? null,
      arguments: c.arguments,
    })),
    finishReason: reply.finishReason,
    usage: reply.usage,
  };
  await trace(task, { name: `model#${n}`, status: 'succeeded', input, output, durationMs: since(t0) });
  return reply;
}

async function toolTurn(task: Task, call: ToolCall): Promise<Message> {
  const n = ++task.requested;
  const t0 = performance.now();
  let outcome: ToolOutcome;
  if (task.progress.toolCalls >= task.limits.maxToolCalls) {
    const message = 'not run: this task has used all its tool calls; answer with what you have';
    outcome = {
      ok: false,
      refused: true,
      uses: task.toolset.uses(call.name),
      input: call.arguments,
      error: { code: 'limit_reached', message },
    };
  } else {
    task.progress.toolCalls++;
    outcome = await runTool(task.ctx, task.actions, task.toolset, call, task.signal, task.runs);
  }
  if (outcome.ok || !outcome.refused) task.acted = true;
  await trace(task, {
    name: `tool#${n} ${outcome.uses ?? call.name}`,
    ...(outcome.uses === undefined ? {} : { uses: outcome.uses }),
    status: outcome.ok ? 'succeeded' : 'failed',
    input: outcome.input,
    ...(outcome.ok ? { output: outcome.output } : { error: ledgerError(outcome.error) }),
    durationMs: since(t0),
    // A call the manifest's limits refused is a security event: audited, not only recorded.
    ...(!outcome.ok && GUARD_CODES.has(outcome.error.code) ? { audit: 'agent.tool_refused' } : {}),
  });
  return { role: 'tool', tool_call_id: call.id, content: resultContent(outcome) };
}

/**
 * The error a stopped task fails with, recorded as its last step. The agent's own timeout is
 * a limit like the others. A retryable failure (the model's 429, say) after an action ran is
 * made fatal: retrying the task would run that action again.
 */
async function stopped(task: Task, err: unknown): Promise<unknown> {
  let error = err;
  if (task.timeout.aborted && !task.ctx.signal.aborted) {
    error = limitExceeded(task.agent.id, 'timeoutMs', task.limits, task.progress);
  } else {
    const found = ConnectorError.find(err);
    if (found?.retryable && task.acted) {
      const message = `${found.message} (not retried: the agent’s tools have already run)`;
      error = new ConnectorError({ code: found.code, kind: 'fatal', message, cause: err });
    }
  }
  await trace(task, {
    name: 'stopped',
    status: 'failed',
    output: { ...task.progress },
    error: ledgerError(errorJson(error)),
  });
  return error;
}

/** A ledger write that fails is logged, never the end of the task. */
async function trace(task: Task, event: TraceEvent): Promise<void> {
  try {
    await task.ctx.trace?.(event);
  } catch (err) {
    task.ctx.log.warn({ err: String(err), step: event.name }, 'agent:step-not-recorded');
  }
}

/**
 * An error as a ledger row shows it. The ledger's redaction hides any field named `code`
 * (OAuth authorization codes), so the error's code is kept as `reason`.
 */
function ledgerError(e: { code: string; message: string }): { reason: string; message: string } {
  return { reason: e.code, message: e.message };
}

function errorJson(err: unknown): { code: string; message: string } {
  const found = ConnectorError.find(err);
  if (found) return { code: found.code, message: found.message };
  return { code: 'error', message: err instanceof Error ? err.message : String(err) };
}

/** Refusals of the manifest's tool limits (`constrain`, `maxCalls`). */
const GUARD_CODES = new Set(['constraint_violated', 'limit_reached']);

const since = (t0: number) => Math.round(performance.now() - t0);
