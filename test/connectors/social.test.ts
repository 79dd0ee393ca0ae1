import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { social } from '../../connectors/social/index.ts';
import type { FakeServer } from '../fakes/server.ts';
import { metaError, PAGE_TOKEN, startSocial, TOKENS, tiktokError, xError } from '../fakes/social.ts';
import { makeTestContext, runAction, type TestContextOptions } from '../hub/context.ts';
import { expectConnectorError, expectHostileHandled } from './hostile.ts';

let fake: FakeServer;
let opts: TestContextOptions;
beforeAll(async () => {
  fake = await startSocial();
  opts = {
    settings: {
      ATLAS_CONNECTOR_SOCIAL_X_BASE_URL: `${fake.url}/x`,
      ATLAS_CONNECTOR_SOCIAL_LINKEDIN_BASE_URL: `${fake.url}/linkedin`,
      ATLAS_CONNECTOR_SOCIAL_FACEBOOK_BASE_URL: `${fake.url}/graph`,
      ATLAS_CONNECTOR_SOCIAL_INSTAGRAM_BASE_URL: `${fake.url}/graph`,
      ATLAS_CONNECTOR_SOCIAL_TIKTOK_BASE_URL: `${fake.url}/tiktok`,
    },
    tokens: { ...TOKENS },
  };
});
afterAll(() => fake.close());

const posts = {
  x: { network: 'x', text: 'Shipped!', linkUrl: 'https://atlas.dev/changelog' },
  linkedin: { network: 'linkedin', text: 'Shipped!', author: 'urn:li:organization:5515715' },
  facebook: { network: 'facebook', text: 'Shipped!', pageId: '1234567890' },
  instagram: {
    network: 'instagram',
    text: 'Shipped!',
    igUserId: '17841400000000000',
    mediaUrl: 'https://cdn.example.com/a.jpg',
  },
  tiktok: {
    network: 'tiktok',
    text: 'Shipped!',
    mediaUrl: 'https://cdn.example.com/a.mp4',
    privacyLevel: 'SELF_ONLY',
  },
} as const;
const publish = (post: unknown, extra: TestContextOptions = {}) =>
  runAction(social, 'publish', post, { ...opts, ...extra });
const provider = {
  x: 'x',
  linkedin: 'linkedin',
  facebook: 'meta',
  instagram: 'meta',
  tiktok: 'tiktok',
} as const;

describe('social.publish', () => {
  it('posts to X', async () => {
    expect(await publish(posts.x)).toEqual({
      network: 'x',
      id: '1445880548472328192',
      url: 'https://x.com/i/web/status/1445880548472328192',
    });
    expect(fake.requests.at(-1)!.json()).toEqual({ text: 'Shipped! https://atlas.dev/changelog' });
  });

  it('posts to LinkedIn with its version headers and reads the id from x-restli-id', async () => {
    expect(await publish(posts.linkedin)).toMatchObject({ id: 'urn:li:share:6844785523593134080' });
    const req = fake.requests.at(-1)!;
    expect(req.header('linkedin-version')).toBe('202501');
    expect(req.header('x-restli-protocol-version')).toBe('2.0.0');
    expect(req.json()).toMatchObject({
      author: 'urn:li:organization:5515715',
      commentary: 'Shipped!',
      lifecycleState: 'PUBLISHED',
    });
  });

  it('posts to a Facebook Page with the Page token it fetched', async () => {
    expect(await publish(posts.facebook)).toMatchObject({ id: '1234567890_987654321' });
    const [tokenCall, feedCall] = fake.requests.slice(-2);
    expect(tokenCall!.query.get('fields')).toBe('access_token');
    expect(feedCall!.header('authorization')).toBe(`Bearer ${PAGE_TOKEN}`);
  });

  it('publishes to Instagram in two steps (container, then media_publish)', async () => {
    expect(await publish(posts.instagram)).toEqual({ network: 'instagram', id: '17920238422030506' });
    const [container, publishCall] = fake.requests.slice(-2);
    expect(container!.json()).toEqual({ image_url: 'https://cdn.example.com/a.jpg', caption: 'Shipped!' });
    expect(publishCall!.json()).toEqual({ creation_id: '17889455560051444' });
  });

  it('starts a TikTok direct post from a URL', async () => {
    expect(await publish(posts.tiktok)).toEqual({ network: 'tiktok', id: 'v_pub_url~v2.123456789' });
    expect(fake.requests.at(-1)!.json()).toMatchObject({
      source_info: { source: 'PULL_FROM_URL', video_url: 'https://cdn.example.com/a.mp4' },
    });
  });

  it('checks input before calling the network', async () => {
    await expect(publish({ network: 'x', text: 'x'.repeat(281) })).rejects.toMatchObject({
      code: 'text_too_long',
    });
    await expect(publish({ network: 'instagram', text: 'no image', igUserId: '1' })).rejects.toMatchObject({
      code: 'invalid_input',
    });
  });
});

describe.each(Object.keys(posts) as Array<keyof typeof posts>)('social.publish to %s errors', (network) => {
  it('maps a 429 to retryable and a bad token to auth', async () => {
    fake.enqueue({
      status: 429,
      headers: { 'retry-after': '8', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await expectConnectorError(publish(posts[network]))).toMatchObject({
      kind: 'retryable',
      retryAfterMs: 8000,
    });
    const tokens = { ...opts.tokens, [provider[network]]: 'revoked-token' };
    expect(await expectConnectorError(publish(posts[network], { tokens }))).toMatchObject({ kind: 'auth' });
  });

  it('survives hostile answers', async () => {
    await expectHostileHandled(
      fake,
      () => publish(posts[network]),
      network === 'linkedin'
        ? []
        : [{ status: 200, headers: { 'content-type': 'application/json' }, body: '{"data":{},"id":42}' }],
    );
  });
});

describe('social network error bodies', () => {
  it('reads X rate-limit reset, Meta throttling and expired-token codes, TikTok codes', async () => {
    const reset = String(Math.floor(Date.now() / 1000) + 30);
    fake.enqueue(xError(429, 'Too Many Requests', 'Too Many Requests', { 'x-rate-limit-reset': reset }));
    const xErr = await expectConnectorError(publish(posts.x));
    expect(xErr.retryAfterMs).toBeGreaterThan(25_000);
    expect(xErr.retryAfterMs).toBeLessThanOrEqual(30_000);
    fake.enqueue(metaError(400, 4, '(#4) Application request limit reached'));
    await expect(publish(posts.instagram)).rejects.toMatchObject({ kind: 'retryable', code: 'rate_limited' });
    fake.enqueue(metaError(400, 190, 'Error validating access token'));
    await expect(publish(posts.instagram)).rejects.toMatchObject({ kind: 'auth', code: 'token_invalid' });
    fake.enqueue(tiktokError(403, 'spam_risk_too_many_posts', 'The user has posted too many times today.'));
    await expect(publish(posts.tiktok)).rejects.toMatchObject({
      kind: 'fatal',
      code: 'spam_risk_too_many_posts',
    });
    fake.enqueue(tiktokError(429, 'rate_limit_exceeded', 'Too many requests'));
    await expect(publish(posts.tiktok)).rejects.toMatchObject({ kind: 'retryable', code: 'rate_limited' });
  });

  it('keeps OAuth tokens out of audit entries and logs', async () => {
    const { ctx, audit, logs } = makeTestContext(social, 'publish', opts);
    for (const post of Object.values(posts)) await social.actions[0]!.run(ctx, post);
    const everything = JSON.stringify(audit.entries) + JSON.stringify(logs);
    expect(audit.entries.length).toBe(7);
    for (const token of [...Object.values(TOKENS), PAGE_TOKEN]) expect(everything).not.toContain(token);
  });
});
