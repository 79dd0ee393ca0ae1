import { describe, expect, it } from 'vitest';
import { makeRedactor, REDACTED, redact, redactHeaders, redactString } from '../../engine/audit/redact.ts';

describe('redact', () => {
  it.each([
    'sk_live_51Habcdefghijklmnop',
    'sk_test_51Habcdefghijklmnop',
    'rk_live_51Habcdefghijklmnop',
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    'xoxb-123456789012-abcdefghijkl',
    'Bearer ya29.a0AfH6SMBxyz',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq',
    're_123456789abcdefghijk',
    'sk-proj-abcdefghijklmnopqrstuv',
    '-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----',
  ])('scrubs %s from free text', (secret) => {
    const out = redactString(`before ${secret} after`);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain(secret);
    expect(out).toMatch(/^before .* after$/);
  });

  it('replaces values under secret-named keys, deeply, and survives cycles', () => {
    const input: Record<string, unknown> = {
      user: 'ada',
      password: 'p',
      nested: { client_secret: 'x', apiKey: 'y', accessToken: 'z', list: [{ refresh_token: 'r' }] },
      usage: { prompt_tokens: 10 },
    };
    input['self'] = input;
    const out = redact(input) as Record<string, unknown>;
    expect(out).toMatchObject({
      user: 'ada',
      password: REDACTED,
      nested: {
        client_secret: REDACTED,
        apiKey: REDACTED,
        accessToken: REDACTED,
        list: [{ refresh_token: REDACTED }],
      },
      usage: { prompt_tokens: 10 },
    });
  });

  it('redacts headers by name', () => {
    expect(redactHeaders({ Authorization: 'Basic abc', Cookie: 'sid=1', 'X-Trace': 'ok' })).toEqual({
      authorization: REDACTED,
      cookie: REDACTED,
      'x-trace': 'ok',
    });
  });

  it('scrubs exact known values with no recognisable shape', () => {
    const redactor = makeRedactor(['plainpassword']);
    redactor.add('abc');
    expect(redactor.redactString('x plainpassword y abc')).toBe(`x ${REDACTED} y abc`);
  });
});
