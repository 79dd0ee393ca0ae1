import type { ActionContext } from 'atlas-engine/sdk';
import { ConnectorError, expectRecord, expectString, isRecord } from 'atlas-engine/sdk';
import { baseUrl, requireField, userToken } from '../../client.ts';
import type { Post, Published } from '../post.ts';

/**
 * TikTok Content Posting API, direct post from a URL: `POST /v2/post/publish/video/init/`
 * → `{ data: { publish_id }, error: { code: "ok" } }`. TikTok then downloads and processes the
 * video; the publish id is what its status endpoint and webhooks report on. Note the
 * envelope always has an `error` object, with `code: "ok"` on success.
 */
export async function publishToTikTok(ctx: ActionContext, post: Post): Promise<Published> {
  const videoUrl = requireField(post.mediaUrl, 'mediaUrl', 'tiktok');
  const res = await ctx.http.request({
    method: 'POST',
    url: `${baseUrl(ctx, 'tiktok')}/v2/post/publish/video/init/`,
    headers: { authorization: `Bearer ${await userToken(ctx, 'tiktok')}` },
    json: {
      post_info: { title: post.text, privacy_level: post.privacyLevel ?? 'SELF_ONLY' },
      source_info: { source: 'PULL_FROM_URL', video_url: videoUrl },
    },
  });
  const answer = expectRecord(res.json(), 'tiktok publish');
  const error = isRecord(answer['error']) ? answer['error'] : undefined;
  if (error && error['code'] !== 'ok') {
    throw ConnectorError.fatal(String(error['code']), `tiktok: ${String(error['message'] ?? error['code'])}`);
  }
  const data = expectRecord(answer['data'], 'tiktok publish data');
  return { network: 'tiktok', id: expectString(data, 'publish_id', 'tiktok publish') };
}
