import { type ActionDefinition, type AgentDirectory, ConnectorError, defineAction } from 'atlas-engine/sdk';
import { type AgentTaskInput, type AgentTaskOutput, runAgentTask } from '../loop.ts';

const usage = {
  type: 'object',
  required: ['prompt_tokens', 'completion_tokens', 'total_tokens'],
  properties: {
    prompt_tokens: { type: 'integer', minimum: 0, description: 'Tokens sent to the model, over every call.' },
    completion_tokens: {
      type: 'integer',
      minimum: 0,
      description: 'Tokens the model wrote, over every call.',
    },
    total_tokens: { type: 'integer', minimum: 0, description: 'Both; what the token budget counts.' },
  },
};

/**
 * `agent.run`: the `AGENT_TASK` job, and a workflow step (`uses: agent.run`). Without a
 * directory (the static declaration `atlas validate` loads) it fails as `not_configured`.
 */
export function runAction(directory?: AgentDirectory): ActionDefinition<AgentTaskInput, AgentTaskOutput> {
  return defineAction<AgentTaskInput, AgentTaskOutput>({
    id: 'run',
    description:
      'Give an agent (an Agent manifest) a task: it calls its connector actions as tools until it answers.',
    jobType: 'AGENT_TASK',
    // One attempt: a second one would repeat what the agent's tools already did. The task
    // itself turns a retryable failure into a fatal one once a tool has run; this also covers
    // the job's own timeout, which ends the attempt before the task can say so.
    jobRetry: { maxAttempts: 1 },
    // The manifest's `limits.timeout` ends the task first; this only bounds a runaway one.
    jobTimeoutMs: 30 * 60_000,
    input: {
      type: 'object',
      additionalProperties: false,
      required: ['agent', 'task'],
      properties: {
        agent: {
          type: 'string',
          pattern: '^[a-z][a-z0-9-]*$',
          description: 'The id of the Agent manifest.',
          examples: ['ops-assistant'],
        },
        task: {
          type: 'string',
          minLength: 1,
          maxLength: 20_000,
          description: 'What the agent should do, in plain words (a template in a workflow step).',
          examples: ['Summarise yesterday’s paid invoices.'],
        },
        context: { type: 'object', description: 'Data the agent may use, sent to the model as JSON.' },
      },
    },
    output: {
      type: 'object',
      required: ['answer', 'turns', 'toolCalls', 'usage'],
      properties: {
        answer: { type: 'string', description: 'The agent’s final answer.' },
        turns: { type: 'integer', minimum: 1, description: 'Model calls made.' },
        toolCalls: { type: 'integer', minimum: 0, description: 'Tool calls made.' },
        usage: { ...usage, description: 'Tokens used, as the provider reported them.' },
      },
    },
    example: {
      answer: 'Three invoices were paid yesterday, 1,240.00 EUR in total; the summary is posted.',
      turns: 3,
      toolCalls: 2,
      usage: { prompt_tokens: 1800, completion_tokens: 240, total_tokens: 2040 },
    },
    async run(ctx, input) {
      if (!directory)
        throw ConnectorError.fatal(
          'not_configured',
          'agent.run needs the engine’s agent directory (engine/services.ts builds it)',
        );
      return runAgentTask(ctx, directory, input);
    },
  });
}
