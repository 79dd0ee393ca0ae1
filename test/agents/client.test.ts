import { describe, expect, it } from 'vitest';
import { modelApiKey, modelBaseUrl } from '../../connectors/agent/client.ts';
import { makeAgentConnector } from '../../connectors/agent/index.ts';
import { makeTestContext } from '../hub/context.ts';

const connector = makeAgentConnector();

function ctxWith(settings: Record<string, string>, secrets: Record<string, string> = {}) {
  return makeTestContext(connector, 'run', { settings, secrets }).ctx;
}

describe('the model’s API', () => {
  it('takes each provider’s base URL from the openai connector’s settings, else its public one', () => {
    const ctx = ctxWith({
      ATLAS_CONNECTOR_OPENAI_BASE_URL: 'http://127.0.0.1:1/openai',
      ATLAS_CONNECTOR_OPENAI_DEEPSEEK_BASE_URL: 'http://127.0.0.1:1/deepseek',
    });
    expect(modelBaseUrl(ctx, { provider: 'openai', model: 'm' })).toBe('http://127.0.0.1:1/openai');
    expect(modelBaseUrl(ctx, { provider: 'deepseek', model: 'm' })).toBe('http://127.0.0.1:1/deepseek');
    expect(modelBaseUrl(ctx, { provider: 'cerebras', model: 'm' })).toBe('https://api.cerebras.ai/v1');
    expect(modelBaseUrl(ctxWith({}), { provider: 'openai', model: 'm' })).toBe('https://api.openai.com/v1');
    expect(modelBaseUrl(ctx, { provider: 'deepseek', model: 'm', baseUrl: 'http://proxy/v1' })).toBe(
      'http://proxy/v1',
    );
  });

  it('takes the key from the named tenant secret, else the provider’s secret, else the environment', async () => {
    const ctx = ctxWith(
      { DEEPSEEK_API_KEY: 'env-deepseek' },
      { TEAM_KEY: 'tenant-team', CEREBRAS_API_KEY: 'tenant-cb' },
    );
    await expect(
      modelApiKey(ctx, { provider: 'openai', model: 'm', apiKeySecret: 'TEAM_KEY' }),
    ).resolves.toEqual({ value: 'tenant-team', platform: false });
    await expect(modelApiKey(ctx, { provider: 'cerebras', model: 'm' })).resolves.toEqual({
      value: 'tenant-cb',
      platform: false,
    });
    // The environment's key reaches the connector only when the operator offers it: the platform's.
    await expect(modelApiKey(ctx, { provider: 'deepseek', model: 'm' })).resolves.toEqual({
      value: 'env-deepseek',
      platform: true,
    });
    await expect(modelApiKey(ctx, { provider: 'openai', model: 'm' })).rejects.toMatchObject({
      kind: 'auth',
      message: expect.stringContaining('OPENAI_API_KEY'),
    });
  });
});
