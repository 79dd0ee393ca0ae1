/**
 * A fake Google Calendar v3 + Drive v3: `/calendar/v3/calendars/{id}/events`,
 * `/drive/v3/files`, and the multipart upload at `/upload/drive/v3/files?uploadType=multipart`.
 * Errors use Google's `{ error: { code, message, status, errors: [{ reason, domain }] } }`.
 */
import { type FakeReply, type FakeServer, json, type RecordedRequest, startFake } from './server.ts';

export const GOOGLE_TOKEN = 'ya29.a0AfakeGoogleAccessTokenForAtlas';

export function googleError(
  code: number,
  reason: string,
  message: string,
  headers: Record<string, string> = {},
): FakeReply {
  const status =
    code === 401
      ? 'UNAUTHENTICATED'
      : code === 429
        ? 'RESOURCE_EXHAUSTED'
        : code === 404
          ? 'NOT_FOUND'
          : 'PERMISSION_DENIED';
  return json(
    code,
    { error: { code, message, status, errors: [{ message, domain: 'global', reason }] } },
    headers,
  );
}

export interface GoogleFake extends FakeServer {
  uploads: Array<{ metadata: unknown; content: string; contentType: string }>;
}

/** Splits a multipart/related body into its parts (metadata JSON, then the media). */
function parseMultipart(req: RecordedRequest): Array<{ headers: string; body: string }> {
  const boundary = /boundary=([^;]+)/.exec(req.header('content-type') ?? '')?.[1];
  if (!boundary) return [];
  return req
    .text()
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((part) => {
      const [headers = '', ...rest] = part.replace(/^\r\n/, '').split('\r\n\r\n');
      return { headers, body: rest.join('\r\n\r\n').replace(/\r\n$/, '') };
    });
}

const event = (id: string, summary: string) => ({
  kind: 'calendar#event',
  id,
  status: 'confirmed',
  htmlLink: `https://www.google.com/calendar/event?eid=${id}`,
  summary,
  start: { dateTime: '2025-01-02T10:00:00Z' },
  end: { dateTime: '2025-01-02T11:00:00Z' },
});

export async function startGoogle(): Promise<GoogleFake> {
  const uploads: GoogleFake['uploads'] = [];
  const server = await startFake((req) => {
    if (req.header('authorization') !== `Bearer ${GOOGLE_TOKEN}`) {
      return googleError(401, 'authError', 'Request had invalid authentication credentials.');
    }
    if (/^\/calendar\/v3\/calendars\/[^/]+\/events$/.test(req.path)) {
      if (req.method === 'GET')
        return json(200, {
          kind: 'calendar#events',
          items: [event('evt1', 'Standup')],
          nextPageToken: 'page2',
        });
      const body = req.json() as { summary: string };
      return json(200, { ...event('evt2', body.summary), ...body });
    }
    if (req.path === '/drive/v3/files' && req.method === 'GET') {
      return json(200, { files: [{ id: 'file1', name: 'invoice.pdf', mimeType: 'application/pdf' }] });
    }
    if (req.path === '/upload/drive/v3/files' && req.method === 'POST') {
      const [meta, media] = parseMultipart(req);
      if (!meta || !media || req.query.get('uploadType') !== 'multipart')
        return googleError(400, 'badRequest', 'Bad upload');
      const metadata = JSON.parse(meta.body) as { name: string; mimeType: string };
      uploads.push({
        metadata,
        content: media.body,
        contentType: /content-type: ([^\r\n]+)/i.exec(media.headers)?.[1] ?? '',
      });
      return json(200, { id: 'file2', name: metadata.name, mimeType: metadata.mimeType });
    }
    return googleError(404, 'notFound', 'Not Found');
  });
  return Object.assign(server, { uploads });
}
