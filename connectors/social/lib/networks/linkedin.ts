import type { ActionContext } from 'atlas-engine/sdk';
import { ConnectorError } from 'atlas-engine/sdk';
import { baseUrl, LINKEDIN_VERSION, requireField, userToken } from '../../client.ts';
import type { Post, Published } from '../post.ts';

/** LinkedIn versions its API by month and retires each version after about a year. */
const DEFAULT_VERSION = '202501';

/**
 * LinkedIn Posts API: `POST /rest/posts` with `LinkedIn-Version: YYYYMM` and
 * `X-Restli-Protocol-Version: 2.0.0`; 201 with an empty body and the post URN in
 * `x-restli-id` (https://learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api).
 */
export async function publishToLinkedIn(ctx: ActionContext, post: Post): Promise<Published> {
  const author = requireField(post.author, 'author', 'linkedin');
  const res = await ctx.http.request({
    method: 'POST',
    url: `${baseUrl(ctx, 'linkedin')}/rest/posts`,
    headers: {
      authorization: `Bearer ${await userToken(ctx, 'linkedin')}`,
      'linkedin-version': ctx.config.settings[LINKEDIN_VERSION] ?? DEFAULT_VERSION,
      'x-restli-protocol-version': '2.0.0',
    },
    json: {
      author,
      commentary: post.text,
      visibility: 'PUBLIC',
      distribution: { feedDistribution: 'MAIN_FEED', targetEntities: [], thirdPartyDistributionChannels: [] },
      lifecycleState: 'PUBLISHED',
      isReshareDisabledByAuthor: false,
      ...(post.linkUrl ? { content: { article: { source: post.linkUrl, title: post.linkUrl } } } : {}),
    },
  });
  const id = res.headers.get('x-restli-id');
  if (!id) throw ConnectorError.invalidResponse('linkedin post: no x-restli-id header');
  return { network: 'linkedin', id, url: `https://www.linkedin.com/feed/update/${id}/` };
}
