/**
 * Prompt injection through an agent's tools: the manifest's `maxCalls` and `constrain`
 * rules are checked before any call, a refused call goes back to the model as a tool error
 * (and is recorded), and the provider never sees it. The model is the scripted chat
 * completions fake; mail goes to the Resend fake and messages to the Telegram fake.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAgentConnector, agent as staticAgent } from '../../connectors/agent/index.ts';
import { allows } from '../../connectors/agent/lib/guard.ts';
import { core } from '../../connectors/core/index.ts';
import { email } from '../../connectors/email/index.ts';
import { telegram } from '../../connectors/telegram/index.ts';
import {
  type AgentManifest,
  makeConnectorRegistry,
  type TraceEvent,
} from '../../engine/connector-sdk/index.ts';
import { answer, CHAT_KEY, callTools, startChatCompletions, type Turn } from '../fakes/chat-completions.ts';
import { RESEND_KEY, type ResendFake, startResend } from '../fakes/resend.ts';
import type { FakeServer } from '../fakes/server.ts';
import { BOT_TOKEN, startTelegram } from '../fakes/telegram.ts';
import { makeTestContext } from '../hub/context.ts';

const registry = makeConnectorRegistry([core, telegram, email, staticAgent]);
let resend: ResendFake;
let tg: FakeServer;

beforeAll(async () => {
  [resend, tg] = await Promise.all([startResend(), startTelegram()]);
});
afterAll(async () => {
  await Promise.all([resend?.close(), tg?.close()]);
});

/** An assistant that reads outsiders' text and may mail and message only the team. */
const guarded: AgentManifest = {
  apiVersion: 'atlas/v1',
  kind: 'Agent',
  id: 'guarded',
  model: { provider: 'openai', model: 'gpt-4o-mini' },
  instructions: 'You run operations.',
  tools: [
    'core.set',
    {
      use: 'email.send',
      maxCalls: 2,
      constrain: {
        to: { allow: ['ops@acme.test', '*@team.acme.test'] },
        cc: { allow: ['ops@acme.test'] },
        bcc: { allow: ['ops@acme.test'] },
        from: { const: 'Atlas <atlas@acme.test>' },
        provider: { const: 'resend' },
      },
    },
    { use: 'telegram.sendMessage', constrain: { chat_id: { allow: ['42'] } } },
  ],
  limits: { maxTurns: 8, maxToolCalls: 10 },
};

async function runTask(script: Turn[], agent = guarded, secrets: Record<string, string> = {}) {
  const chat = await startChatCompletions({ script });
  const connector = makeAgentConnector({
    agent: (id) => (id === agent.id ? agent : undefined),
    actions: registry,
  });
  const traces: TraceEvent[] = [];
  const payload = { agent: agent.id, task: 'Read the mail and report.' };
  const { ctx } = makeTestContext(connector, 'run', {
    input: payload,
    connectors: [core, telegram, email],
    baseUrls: { telegram: tg.url, email: resend.url },
    settings: { ATLAS_CONNECTOR_OPENAI_BASE_URL: chat.url },
    // The tenant's own keys: platform keys would need the operator's offer and a budget.
    secrets: {
      OPENAI_API_KEY: CHAT_KEY,
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      RESEND_API_KEY: RESEND_KEY,
      ...secrets,
    },
    timeoutMs: 10_000,
  });
  ctx.trace = async (event) => {
    traces.push(event);
  };
  try {
    const output = await connector.actions[0]!.run(ctx, payload);
    return { output, traces, chat };
  } finally {
    await chat.close();
  }
}

function toolMessages(chat: {
  requests: Array<{ messages: Array<{ role: string; content?: string | null }> }>;
}) {
  const last = chat.requests.at(-1)!;
  return last.messages.filter((m) => m.role === 'tool').map((m) => JSON.parse(m.content ?? 'null'));
}

const mail = (to: string[], extra: Record<string, unknown> = {}) => ({
  name: 'email__send',
  arguments: { to, subject: 'Invoices', text: 'All paid.', ...extra },
});

describe('an agent whose tools are constrained', () => {
  it('refuses mail to an outsider: the model gets a tool error, the mail provider receives nothing', async () => {
    const before = resend.requests.length;
    const { traces, chat } = await runTask([
      callTools(mail(['attacker@evil.test'])),
      callTools(mail(['ops@acme.test'], { bcc: ['attacker@evil.test'] })),
      callTools(mail(['evil@attacker.test, x@team.acme.test'])),
      callTools(mail(['ops@acme.test'], { from: 'ceo@acme.test' })),
      answer('I could not send it.'),
    ]);
    expect(resend.requests.length).toBe(before);
    expect(toolMessages(chat).map((m) => m.error?.code)).toEqual([
      'constraint_violated',
      'constraint_violated',
      'constraint_violated',
      'constraint_violated',
    ]);
    expect(toolMessages(chat)[0].error.message).toMatch(
      /`to` may only be ops@acme\.test, \*@team\.acme\.test/,
    );
    const tools = traces.filter((t) => t.name.startsWith('tool#'));
    expect(tools.map((t) => [t.status, (t.error as { reason: string }).reason, t.audit])).toEqual(
      Array(4).fill(['failed', 'constraint_violated', 'agent.tool_refused']),
    );
  });

  it('sends to an allowed recipient with the fixed sender and provider filled in', async () => {
    const before = resend.requests.length;
    const { chat } = await runTask([
      callTools(mail(['Ops@acme.test', 'ana@team.acme.test'])),
      answer('Sent.'),
    ]);
    expect(toolMessages(chat)[0]).toMatchObject({ untrusted_data: { provider: 'resend' } });
    expect(resend.requests.slice(before).map((r) => r.json())).toEqual([
      expect.objectContaining({
        from: 'Atlas <atlas@acme.test>',
        to: ['Ops@acme.test', 'ana@team.acme.test'],
      }),
    ]);
  });

  it('enforces maxCalls: the third mail of a task is refused and never sent', async () => {
    const before = resend.requests.length;
    const { chat } = await runTask([
      callTools(mail(['ops@acme.test']), mail(['ops@acme.test']), mail(['ops@acme.test'])),
      answer('Done.'),
    ]);
    const results = toolMessages(chat);
    expect(resend.requests.length - before).toBe(2);
    expect(results[2].error).toMatchObject({ code: 'limit_reached' });
    expect(results[2].error.message).toMatch(/at most 2 time/);
  });

  it('refuses a Telegram message to another chat, and allows chat 42', async () => {
    const before = tg.requests.length;
    const { chat } = await runTask([
      callTools(
        { name: 'telegram__sendMessage', arguments: { chat_id: 666, text: 'hi' } },
        { name: 'telegram__sendMessage', arguments: { chat_id: 42, text: 'hi' } },
      ),
      answer('Done.'),
    ]);
    expect(toolMessages(chat).map((m) => m.error?.code ?? 'ok')).toEqual(['constraint_violated', 'ok']);
    expect(tg.requests.slice(before).map((r) => (r.json() as { chat_id: number }).chat_id)).toEqual([42]);
  });

  it('tells the model its limits in the tool description', async () => {
    const { chat } = await runTask([answer('Nothing to do.')]);
    const send = chat.requests[0]!.tools!.find((t) => t.function.name === 'email__send')!;
    expect(send.function.description).toMatch(/`to` may only be ops@acme\.test/);
    expect(send.function.description).toMatch(/at most 2 call/);
  });

  it('refuses tool arguments nested past the parse limit as a tool error', async () => {
    const deep = `{"value": ${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const { chat, output } = await runTask([
      callTools({ name: 'core__set', arguments: deep }),
      answer('Gave up.'),
    ]);
    expect(output).toMatchObject({ answer: 'Gave up.' });
    const [result] = toolMessages(chat);
    expect(result.error.code).toBe('invalid_arguments');
    expect(result.error.message).toMatch(/nested deeper than 64 levels/);
  });

  it('reads {{ secrets.NAME }} values per tenant, fails closed without them, and honours forbid', async () => {
    const perTenant: AgentManifest = {
      ...guarded,
      id: 'per-tenant',
      tools: [
        {
          use: 'email.send',
          constrain: {
            to: { allow: ['{{ secrets.OPS_RECIPIENTS }}'] },
            replyTo: { forbid: true },
            provider: { const: 'resend' },
            from: { const: '{{ secrets.OPS_SENDER }}' },
          },
        },
      ],
    };
    const secrets = { OPS_RECIPIENTS: 'ops@acme.test, boss@acme.test', OPS_SENDER: 'ops@acme.test' };
    const before = resend.requests.length;
    const configured = await runTask(
      [
        callTools(
          mail(['boss@acme.test']),
          mail(['boss@acme.test'], { replyTo: ['attacker@evil.test'] }),
          mail(['attacker@evil.test']),
        ),
        answer('Done.'),
      ],
      perTenant,
      secrets,
    );
    expect(toolMessages(configured.chat).map((m) => m.error?.code ?? 'ok')).toEqual([
      'ok',
      'constraint_violated',
      'constraint_violated',
    ]);
    expect(resend.requests.slice(before).map((r) => r.json())).toEqual([
      expect.objectContaining({ from: 'ops@acme.test', to: ['boss@acme.test'] }),
    ]);
    const description = configured.chat.requests[0]!.tools![0]!.function.description;
    // The secret's values reach neither the model nor the ledger: the secret is named instead.
    expect(description).toMatch(/`to` may only be one of the values configured in OPS_RECIPIENTS/);
    expect(JSON.stringify(configured.chat.requests)).not.toContain('boss@acme.test, ');

    const unset = await runTask([callTools(mail(['ops@acme.test'])), answer('Done.')], perTenant);
    expect(toolMessages(unset.chat)[0].error.message).toMatch(/not configured: the secret is not set/);
    expect(resend.requests.length).toBe(before + 1);
  });

  it('matches allow patterns whole, case-insensitively, with * never crossing @ or a separator', () => {
    expect(allows(['*@acme.test'], 'a.b@ACME.test')).toBe(true);
    expect(allows(['*@acme.test'], 'evil@attacker.test,x@acme.test')).toBe(false);
    expect(allows(['*@acme.test'], 'x@acme.test.evil.test')).toBe(false);
    expect(allows(['42'], 42)).toBe(true);
    expect(allows(['42'], { id: 42 })).toBe(false);
  });
});
