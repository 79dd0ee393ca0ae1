import type { ActionContext } from 'atlas-engine/sdk';
import { ConnectorError, expectRecord, expectString } from 'atlas-engine/sdk';
import { baseUrl, userToken } from '../../client.ts';
import type { Post, Published } from '../post.ts';

/**
 * X API v2: `POST /2/tweets` `{ text }` → 201 `{ data: { id, text } }`. 280 is the limit for
 * most accounts; X weighs some characters double (CJK, emoji), so this check is a floor and X
 * has the last word (403 "Your Tweet text is too long").
 */
export async function publishToX(ctx: ActionContext, post: Post): Promise<Published> {
  const text = post.linkUrl ? `${post.text} ${post.linkUrl}` : post.text;
  if (text.length > 280)
    throw ConnectorError.fatal('text_too_long', 'social: X posts are limited to 280 characters');
  const res = await ctx.http.request({
    method: 'POST',
    url: `${baseUrl(ctx, 'x')}/2/tweets`,
    headers: { authorization: `Bearer ${await userToken(ctx, 'x')}` },
    json: { text },
  });
  const data = expectRecord(expectRecord(res.json(), 'x tweet')['data'], 'x tweet data');
  const id = expectString(data, 'id', 'x tweet');
  return { network: 'x', id, url: `https://x.com/i/web/status/${id}` };
}
