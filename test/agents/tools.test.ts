import { describe, expect, it } from 'vitest';
import { makeToolset, TOOL_NAME, toolName } from '../../connectors/agent/lib/tools.ts';
import { ConnectorError } from '../../engine/connector-sdk/index.ts';
import { agentManifest, registry } from './harness.ts';

describe('tool names', () => {
  it('are OpenAI-safe for every registered action, and map back to it exactly', () => {
    const agent = agentManifest({ tools: registry.actions().map((a) => a.uses) });
    const toolset = makeToolset(agent, registry);
    for (const { uses } of registry.actions()) {
      const name = toolset.name(uses)!;
      expect(name).toMatch(TOOL_NAME);
      expect(toolset.uses(name)).toBe(uses);
    }
    expect(toolName('telegram.sendMessage')).toBe('telegram__sendMessage');
    expect(toolName('msgraph.outlook.sendMail')).toBe('msgraph__outlook__sendMail');
  });

  it('stay within 64 characters and distinct for long ids', () => {
    const a = `acme.${'very.'.repeat(15)}longA`;
    const b = `acme.${'very.'.repeat(15)}longB`;
    expect(toolName(a)).toMatch(TOOL_NAME);
    expect(toolName(a)).not.toBe(toolName(b));
  });
});

describe('tool definitions', () => {
  it('use the action’s own input schema object as the parameters', () => {
    const toolset = makeToolset(agentManifest({ tools: ['telegram.sendMessage'] }), registry);
    const [definition] = toolset.definitions;
    expect(definition?.function.parameters).toBe(registry.action('telegram.sendMessage')!.action.input);
    expect(definition?.function.description).toBe(
      registry.action('telegram.sendMessage')!.action.description,
    );
  });

  it('refuse an agent that lists an action no connector registers', () => {
    const agent = agentManifest({ tools: ['telegram.sendFax'] });
    expect(() => makeToolset(agent, registry)).toThrow(ConnectorError);
    expect(() => makeToolset(agent, registry)).toThrow(/telegram.sendFax, which is not registered/);
  });
});
