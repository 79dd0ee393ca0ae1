import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { google } from '../../connectors/google/index.ts';
import { GOOGLE_TOKEN, type GoogleFake, googleError, startGoogle } from '../fakes/google.ts';
import { makeTestContext, runAction, type TestContextOptions } from '../hub/context.ts';
import { expectConnectorError, expectHostileHandled } from './hostile.ts';

let fake: GoogleFake;
let opts: TestContextOptions;
beforeAll(async () => {
  fake = await startGoogle();
  opts = { baseUrl: fake.url, tokens: { google: GOOGLE_TOKEN } };
});
afterAll(() => fake.close());

const run = (action: string, input: unknown, extra: TestContextOptions = {}) =>
  runAction<Record<string, unknown>>(google, action, input, { ...opts, ...extra });

const inputs: Record<string, unknown> = {
  'calendar.listEvents': { timeMin: '2025-01-01T00:00:00Z', maxResults: 10 },
  'calendar.insertEvent': {
    summary: 'Review',
    start: { dateTime: '2025-01-03T10:00:00Z' },
    end: { dateTime: '2025-01-03T11:00:00Z' },
    attendees: ['ada@example.com'],
  },
  'drive.listFiles': { q: "name contains 'invoice'" },
  'drive.uploadFile': {
    name: 'notes.txt',
    mimeType: 'text/plain',
    content_base64: Buffer.from('hello drive').toString('base64'),
  },
};

describe('google calendar', () => {
  it('lists events expanded and ordered by start', async () => {
    const out = await run('calendar.listEvents', inputs['calendar.listEvents']);
    expect(out).toMatchObject({ events: [{ id: 'evt1', summary: 'Standup' }], nextPageToken: 'page2' });
    const req = fake.requests.at(-1)!;
    expect(req.path).toBe('/calendar/v3/calendars/primary/events');
    expect(Object.fromEntries(req.query)).toMatchObject({
      singleEvents: 'true',
      orderBy: 'startTime',
      maxResults: '10',
    });
  });

  it('inserts an event with attendees', async () => {
    const out = await run('calendar.insertEvent', inputs['calendar.insertEvent']);
    expect(out).toMatchObject({ id: 'evt2', summary: 'Review' });
    const req = fake.requests.at(-1)!;
    expect(req.json()).toMatchObject({ attendees: [{ email: 'ada@example.com' }] });
    expect(req.query.get('sendUpdates')).toBe('none');
  });
});

describe('google drive', () => {
  it('lists files with the fields it promises', async () => {
    expect(await run('drive.listFiles', inputs['drive.listFiles'])).toMatchObject({
      files: [{ id: 'file1', name: 'invoice.pdf' }],
    });
    expect(fake.requests.at(-1)!.query.get('fields')).toContain('files(id,name');
  });

  it('uploads metadata and content in one multipart request', async () => {
    expect(await run('drive.uploadFile', inputs['drive.uploadFile'])).toMatchObject({
      id: 'file2',
      name: 'notes.txt',
    });
    expect(fake.uploads.at(-1)).toMatchObject({
      metadata: { name: 'notes.txt', mimeType: 'text/plain' },
      content: 'hello drive',
      contentType: 'text/plain',
    });
  });
});

describe.each(Object.keys(inputs))('google %s errors', (action) => {
  it('maps 429 and 403 rateLimitExceeded to retryable, 401 to auth, 404 to fatal', async () => {
    fake.enqueue(googleError(429, 'rateLimitExceeded', 'Rate Limit Exceeded', { 'retry-after': '6' }));
    expect(await expectConnectorError(run(action, inputs[action]))).toMatchObject({
      kind: 'retryable',
      code: 'rate_limited',
      retryAfterMs: 6000,
    });
    fake.enqueue(googleError(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded'));
    expect(await expectConnectorError(run(action, inputs[action]))).toMatchObject({
      kind: 'retryable',
      status: 403,
    });
    await expect(run(action, inputs[action], { tokens: { google: 'ya29.expired' } })).rejects.toMatchObject({
      kind: 'auth',
      status: 401,
    });
    fake.enqueue(googleError(403, 'insufficientPermissions', 'Insufficient Permission'));
    await expect(run(action, inputs[action])).rejects.toMatchObject({
      kind: 'fatal',
      code: 'insufficientPermissions',
    });
    fake.enqueue(googleError(404, 'notFound', 'Not Found'));
    await expect(run(action, inputs[action])).rejects.toMatchObject({ kind: 'fatal', code: 'not_found' });
  });

  it('survives hostile answers', async () => {
    await expectHostileHandled(fake, () => run(action, inputs[action]), [
      {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"items":[{"summary":"no id"}],"files":[{"name":"no id"}]}',
      },
    ]);
  });
});

describe('google secrets', () => {
  it('keeps the OAuth token out of audit entries and logs', async () => {
    const { ctx, audit, logs } = makeTestContext(google, 'drive.uploadFile', opts);
    await google.actions[3]!.run(ctx, inputs['drive.uploadFile']);
    expect(audit.entries).toHaveLength(1);
    expect(JSON.stringify(audit.entries) + JSON.stringify(logs)).not.toContain(GOOGLE_TOKEN);
  });
});
