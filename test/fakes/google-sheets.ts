/**
 * A fake Google authorization server and Sheets API v4 that enforce scopes as Google does: the
 * authorization endpoint remembers the scopes asked for, the token endpoint issues tokens
 * carrying them (and refreshes them), and `GET /v4/spreadsheets/{id}/values/{range}` answers
 * 403 `ACCESS_TOKEN_SCOPE_INSUFFICIENT` to a token without a spreadsheets scope, 401 to an
 * unknown or revoked one. Errors use Google's `{ error: { code, message, status, details } }`.
 */
import { randomBytes } from 'node:crypto';
import { type FakeServer, json, startFake } from './server.ts';

const SHEETS_SCOPES = [
  'https://www.googleapis.com/auth/spreadsheets',
  'https://www.googleapis.com/auth/spreadsheets.readonly',
];

export interface GoogleSheetsFake extends FakeServer {
  /** Access tokens issued, with their scopes. */
  tokens: Map<string, string[]>;
  /** Makes a live access token unknown (revoked at Google): the next call with it gets 401. */
  revoke(token: string): void;
}

const id = (prefix: string) => `${prefix}${randomBytes(12).toString('base64url')}`;

export async function startGoogleSheets(client: { id: string; secret: string }): Promise<GoogleSheetsFake> {
  const codes = new Map<string, string[]>();
  const refreshTokens = new Map<string, string[]>();
  const tokens = new Map<string, string[]>();
  const issue = (scopes: string[], refresh?: string) => {
    const access = id('ya29.');
    tokens.set(access, scopes);
    const refreshToken = refresh ?? id('1//');
    refreshTokens.set(refreshToken, scopes);
    return json(200, {
      access_token: access,
      expires_in: 3599,
      refresh_token: refreshToken,
      scope: scopes.join(' '),
      token_type: 'Bearer',
    });
  };
  const server = await startFake((req) => {
    if (req.path === '/o/oauth2/v2/auth') {
      const code = id('4/');
      codes.set(code, (req.query.get('scope') ?? '').split(' ').filter(Boolean));
      const back = new URL(req.query.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', req.query.get('state') ?? '');
      return { status: 302, headers: { location: back.href } };
    }
    if (req.path === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(req.text());
      if (form.get('client_id') !== client.id || form.get('client_secret') !== client.secret)
        return json(401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
      if (form.get('grant_type') === 'authorization_code') {
        const scopes = codes.get(form.get('code') ?? '');
        if (!scopes) return json(400, { error: 'invalid_grant', error_description: 'Malformed auth code.' });
        codes.delete(form.get('code') ?? '');
        return issue(scopes);
      }
      const refresh = form.get('refresh_token') ?? '';
      const scopes = refreshTokens.get(refresh);
      if (!scopes)
        return json(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      return issue(scopes, refresh);
    }
    const values = /^\/v4\/spreadsheets\/([^/]+)\/values\/(.+)$/.exec(req.path);
    if (values && req.method === 'GET') {
      const token = /^Bearer (.+)$/.exec(req.header('authorization') ?? '')?.[1];
      const scopes = token === undefined ? undefined : tokens.get(token);
      if (!scopes)
        return json(401, {
          error: {
            code: 401,
            message: 'Request had invalid authentication credentials.',
            status: 'UNAUTHENTICATED',
          },
        });
      if (!scopes.some((s) => SHEETS_SCOPES.includes(s)))
        return json(403, {
          error: {
            code: 403,
            message: 'Request had insufficient authentication scopes.',
            status: 'PERMISSION_DENIED',
            details: [
              {
                '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
                reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
                domain: 'googleapis.com',
                metadata: {
                  service: 'sheets.googleapis.com',
                  method: 'google.apps.sheets.v4.SpreadsheetsService.GetValues',
                },
              },
            ],
          },
        });
      return json(200, {
        range: values[2],
        majorDimension: 'ROWS',
        values: [
          ['Order', 'Total'],
          ['A-1001', '42.50'],
        ],
      });
    }
    return json(404, {
      error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' },
    });
  });
  return { ...server, tokens, revoke: (token) => tokens.delete(token) };
}
