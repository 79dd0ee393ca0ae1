/**
 * Fake social networks on one server, each under its own prefix (the connector's base URLs
 * point there), each speaking its network's wire format:
 * - `/x/2/tweets` → 201 `{ data: { id, text } }`; 429 with `x-rate-limit-reset`;
 * - `/linkedin/rest/posts` → 201, empty body, `x-restli-id`; requires `LinkedIn-Version`;
 * - `/graph/{page-id}?fields=access_token`, `/graph/{page-id}/feed`, `/graph/{ig}/media`,
 *   `/graph/{ig}/media_publish` (Meta errors `{ error: { message, type, code, fbtrace_id } }`);
 * - `/tiktok/v2/post/publish/video/init/` → `{ data: { publish_id }, error: { code: "ok" } }`.
 */
import { type FakeReply, type FakeServer, json, type RecordedRequest, startFake } from './server.ts';

export const TOKENS = {
  x: 'x-user-token-AAAAexampleexample',
  linkedin: 'AQVlinkedin-token-example-0001',
  meta: 'EAAGmeta-user-token-example0001',
  tiktok: 'act.tiktok-token-example-000001',
};
export const PAGE_TOKEN = 'EAAGpage-token-example-000000001';

export const metaError = (status: number, code: number, message: string): FakeReply =>
  json(status, { error: { message, type: 'OAuthException', code, fbtrace_id: 'AbCdEf' } });
export const tiktokError = (status: number, code: string, message: string): FakeReply =>
  json(status, { data: {}, error: { code, message, log_id: '202501010000' } });
export const xError = (
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): FakeReply => json(status, { title, detail, type: 'about:blank', status }, headers);

const bearer = (req: RecordedRequest) => (req.header('authorization') ?? '').replace(/^Bearer /, '');

function x(req: RecordedRequest): FakeReply {
  if (bearer(req) !== TOKENS.x) return xError(401, 'Unauthorized', 'Unauthorized');
  const { text } = req.json() as { text: string };
  return json(201, {
    data: { id: '1445880548472328192', text, edit_history_tweet_ids: ['1445880548472328192'] },
  });
}

function linkedin(req: RecordedRequest): FakeReply {
  if (bearer(req) !== TOKENS.linkedin)
    return json(401, {
      status: 401,
      serviceErrorCode: 65600,
      code: 'INVALID_ACCESS_TOKEN',
      message: 'Invalid access token',
    });
  if (!/^\d{6}$/.test(req.header('linkedin-version') ?? '')) {
    return json(426, {
      status: 426,
      code: 'NONEXISTENT_VERSION',
      message: 'Requested version is not active',
    });
  }
  return { status: 201, headers: { 'x-restli-id': 'urn:li:share:6844785523593134080' } };
}

function graph(req: RecordedRequest): FakeReply {
  const path = req.path.replace(/^\/graph/, '');
  const token = bearer(req);
  if (req.method === 'GET' && /^\/\d+$/.test(path)) {
    if (token !== TOKENS.meta)
      return metaError(400, 190, 'Error validating access token: Session has expired.');
    return json(200, { access_token: PAGE_TOKEN, id: path.slice(1) });
  }
  if (/^\/\d+\/feed$/.test(path)) {
    if (token !== PAGE_TOKEN)
      return metaError(403, 200, "(#200) The user hasn't authorized the application to perform this action");
    return json(200, { id: `${path.split('/')[1]}_987654321` });
  }
  if (token !== TOKENS.meta)
    return metaError(400, 190, 'Error validating access token: Session has expired.');
  if (/^\/\d+\/media$/.test(path)) return json(200, { id: '17889455560051444' });
  if (/^\/\d+\/media_publish$/.test(path)) return json(200, { id: '17920238422030506' });
  return metaError(400, 100, 'Unsupported post request.');
}

function tiktok(req: RecordedRequest): FakeReply {
  if (bearer(req) !== TOKENS.tiktok)
    return tiktokError(
      401,
      'access_token_invalid',
      'The access token is invalid or not found in the request.',
    );
  return json(200, {
    data: { publish_id: 'v_pub_url~v2.123456789' },
    error: { code: 'ok', message: '', log_id: '202501010000' },
  });
}

export async function startSocial(): Promise<FakeServer> {
  return startFake((req) => {
    if (req.path === '/x/2/tweets') return x(req);
    if (req.path === '/linkedin/rest/posts') return linkedin(req);
    if (req.path.startsWith('/graph/')) return graph(req);
    if (req.path === '/tiktok/v2/post/publish/video/init/') return tiktok(req);
    return json(404, { error: 'not found' });
  });
}
