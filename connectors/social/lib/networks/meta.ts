import type { ActionContext } from 'atlas-engine/sdk';
import { expectRecord, expectString } from 'atlas-engine/sdk';
import { baseUrl, requireField, userToken } from '../../client.ts';
import type { Post, Published } from '../post.ts';

async function graphPost(
  ctx: ActionContext,
  network: 'facebook' | 'instagram',
  path: string,
  token: string,
  json: unknown,
) {
  const res = await ctx.http.request({
    method: 'POST',
    url: `${baseUrl(ctx, network)}/${path}`,
    headers: { authorization: `Bearer ${token}` },
    json,
  });
  return expectRecord(res.json(), `${network} ${path}`);
}

/**
 * Facebook Page feed: posting needs the Page's own access token, which the user's token
 * yields from `GET /{page-id}?fields=access_token`; then `POST /{page-id}/feed`
 * (https://developers.facebook.com/docs/pages-api/posts).
 */
export async function publishToFacebook(ctx: ActionContext, post: Post): Promise<Published> {
  const pageId = requireField(post.pageId, 'pageId', 'facebook');
  const user = await userToken(ctx, 'facebook');
  const page = await ctx.http.request({
    url: `${baseUrl(ctx, 'facebook')}/${encodeURIComponent(pageId)}`,
    query: { fields: 'access_token' },
    headers: { authorization: `Bearer ${user}` },
  });
  const pageToken = expectString(expectRecord(page.json(), 'facebook page'), 'access_token', 'facebook page');
  const created = await graphPost(ctx, 'facebook', `${encodeURIComponent(pageId)}/feed`, pageToken, {
    message: post.text,
    ...(post.linkUrl ? { link: post.linkUrl } : {}),
  });
  const id = expectString(created, 'id', 'facebook post');
  return { network: 'facebook', id, url: `https://www.facebook.com/${id}` };
}

/**
 * Instagram content publishing is two calls: create a media container
 * (`POST /{ig-user-id}/media` with `image_url` and `caption`), then publish it
 * (`POST /{ig-user-id}/media_publish` with `creation_id`)
 * (https://developers.facebook.com/docs/instagram-platform/content-publishing).
 */
export async function publishToInstagram(ctx: ActionContext, post: Post): Promise<Published> {
  const igUserId = encodeURIComponent(requireField(post.igUserId, 'igUserId', 'instagram'));
  const imageUrl = requireField(post.mediaUrl, 'mediaUrl', 'instagram');
  const token = await userToken(ctx, 'instagram');
  const container = await graphPost(ctx, 'instagram', `${igUserId}/media`, token, {
    image_url: imageUrl,
    caption: post.text,
  });
  const creationId = expectString(container, 'id', 'instagram container');
  const published = await graphPost(ctx, 'instagram', `${igUserId}/media_publish`, token, {
    creation_id: creationId,
  });
  return { network: 'instagram', id: expectString(published, 'id', 'instagram media') };
}
