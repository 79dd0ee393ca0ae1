/**
 * The agent connector over real fakes: a scripted chat completions server, the Telegram and
 * Stripe fakes, and a test context whose `callAction` runs the real telegram, stripe and
 * core actions, and whose `trace` keeps the recorded steps in memory.
 */
import { makeAgentConnector, agent as staticAgent } from '../../connectors/agent/index.ts';
import { core } from '../../connectors/core/index.ts';
import { stripe } from '../../connectors/stripe/index.ts';
import { telegram } from '../../connectors/telegram/index.ts';
import type { MemoryAuditSink } from '../../engine/audit/entry.ts';
import {
  type AgentDirectory,
  type AgentManifest,
  makeConnectorRegistry,
  type TraceEvent,
} from '../../engine/connector-sdk/index.ts';
import {
  CHAT_KEY,
  type ChatFake,
  type ChatFakeOptions,
  startChatCompletions,
} from '../fakes/chat-completions.ts';
import type { FakeServer } from '../fakes/server.ts';
import { STRIPE_KEY, startStripe } from '../fakes/stripe.ts';
import { BOT_TOKEN, startTelegram } from '../fakes/telegram.ts';
import { makeTestContext } from '../hub/context.ts';

export const registry = makeConnectorRegistry([core, telegram, stripe, staticAgent]);

export function agentManifest(overrides: Partial<AgentManifest> = {}): AgentManifest {
  return {
    apiVersion: 'atlas/v1',
    kind: 'Agent',
    id: 'ops',
    model: { provider: 'openai', model: 'gpt-4o-mini' },
    instructions: 'You run operations. Use the tools.',
    tools: ['stripe.invoices.list', 'telegram.sendMessage', 'core.fail', 'core.noop'],
    ...overrides,
  };
}

export function directoryOf(...agents: AgentManifest[]): AgentDirectory {
  return { agent: (id) => agents.find((a) => a.id === id), actions: registry };
}

export interface Providers {
  telegram: FakeServer;
  stripe: FakeServer;
  close(): Promise<void>;
}

export async function startProviders(): Promise<Providers> {
  const [tg, st] = await Promise.all([startTelegram(), startStripe()]);
  return {
    telegram: tg,
    stripe: st,
    close: async () => {
      await Promise.all([tg.close(), st.close()]);
    },
  };
}

export interface TaskResult {
  chat: ChatFake;
  traces: TraceEvent[];
  audit: MemoryAuditSink;
  run(): Promise<unknown>;
}

/** Prepares one `agent.run` against a chat fake with this script; `run()` runs it. */
export async function prepareTask(
  providers: Providers,
  script: ChatFakeOptions,
  input: { agent?: string; task?: string; context?: Record<string, unknown> } = {},
  opts: {
    /** The agents, or a function of the chat fake's base URL (for a manifest `baseUrl`). */
    agents?: AgentManifest[] | ((chatUrl: string) => AgentManifest[]);
    settings?: Record<string, string>;
    secrets?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<TaskResult> {
  const chat = await startChatCompletions(script);
  const agents =
    typeof opts.agents === 'function' ? opts.agents(chat.url) : (opts.agents ?? [agentManifest()]);
  const connector = makeAgentConnector(directoryOf(...agents));
  const traces: TraceEvent[] = [];
  const payload = {
    agent: input.agent ?? 'ops',
    task: input.task ?? 'Summarise the paid invoices.',
    ...input,
  };
  const { ctx, audit } = makeTestContext(connector, 'run', {
    input: payload,
    connectors: [core, telegram, stripe],
    baseUrls: { telegram: providers.telegram.url, stripe: providers.stripe.url },
    settings: {
      ATLAS_CONNECTOR_OPENAI_BASE_URL: chat.url,
      OPENAI_API_KEY: CHAT_KEY,
      ...opts.settings,
    },
    // The tenant's own bot and Stripe account; the model key is the platform's, within a budget.
    secrets: { TELEGRAM_BOT_TOKEN: BOT_TOKEN, STRIPE_SECRET_KEY: STRIPE_KEY, ...opts.secrets },
    tenantSettings: { llm: { tokensPerDay: 1_000_000 } },
    timeoutMs: opts.timeoutMs ?? 10_000,
  });
  ctx.trace = async (event) => {
    traces.push(event);
  };
  const action = connector.actions[0]!;
  return {
    chat,
    traces,
    audit,
    run: async () => {
      try {
        return await action.run(ctx, payload);
      } finally {
        await chat.close();
      }
    },
  };
}
