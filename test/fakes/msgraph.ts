/**
 * A fake Microsoft identity platform + Graph on one server:
 * - `POST /{tenant}/oauth2/v2.0/token` (client credentials, form body) → `{ token_type, expires_in, access_token }`
 *   or `{ error: "invalid_client", error_description: "AADSTS7000215: ..." }` (401);
 * - `POST /v1.0/users/{id}/sendMail` → 202, no body;
 * - `GET /v1.0/users/{id}[/mailFolders/{f}]/messages` → `{ value, @odata.nextLink }`;
 * - `POST /v1.0/teams/{team}/channels/{channel}/messages` (delegated token) → chatMessage;
 * - `POST /workflows/{id}` (a Teams Workflows webhook) → 202.
 * Graph errors use `{ error: { code, message, innerError } }`.
 */
import { type FakeReply, type FakeServer, json, type RecordedRequest, startFake } from './server.ts';

export const MS = {
  tenant: 'contoso-tenant',
  clientId: 'app-client-id',
  clientSecret: 'Xy8Q~client.secret.value_123',
};
export const DELEGATED_TOKEN = 'delegated-microsoft-token-abc';

export function graphError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): FakeReply {
  return json(
    status,
    { error: { code, message, innerError: { date: '2025-01-01T00:00:00', 'request-id': 'r-1' } } },
    headers,
  );
}

export interface GraphFake extends FakeServer {
  sent: Array<{ mailbox: string; payload: unknown }>;
  issued: string[];
  workflowPosts: unknown[];
}

const inbox = [
  {
    id: 'AAMkAD1',
    subject: 'Invoice 42',
    bodyPreview: 'Please find attached',
    receivedDateTime: '2025-01-02T10:00:00Z',
    isRead: false,
    webLink: 'https://outlook.office365.com/owa/?ItemID=AAMkAD1',
    from: { emailAddress: { name: 'Ada', address: 'ada@example.com' } },
  },
];

function tokenEndpoint(req: RecordedRequest, issued: string[]): FakeReply {
  const form = new URLSearchParams(req.text());
  if (form.get('client_id') !== MS.clientId || form.get('client_secret') !== MS.clientSecret) {
    return json(401, {
      error: 'invalid_client',
      error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2',
      error_codes: [7000215],
    });
  }
  if (
    form.get('grant_type') !== 'client_credentials' ||
    form.get('scope') !== 'https://graph.microsoft.com/.default'
  ) {
    return json(400, { error: 'invalid_request', error_description: 'AADSTS900144: bad request' });
  }
  const token = `app-token-${issued.length + 1}-${Math.random().toString(36).slice(2)}`;
  issued.push(token);
  return json(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
}

export async function startGraph(): Promise<GraphFake> {
  const sent: GraphFake['sent'] = [];
  const issued: string[] = [];
  const workflowPosts: unknown[] = [];
  const server = await startFake((req) => {
    if (req.path === `/${MS.tenant}/oauth2/v2.0/token`) return tokenEndpoint(req, issued);
    if (req.path.startsWith('/workflows/')) {
      workflowPosts.push(req.json());
      return { status: 202 };
    }
    const bearer = (req.header('authorization') ?? '').replace(/^Bearer /, '');
    const teams = /^\/v1\.0\/teams\/([^/]+)\/channels\/([^/]+)\/messages$/.exec(req.path);
    if (teams) {
      if (bearer !== DELEGATED_TOKEN)
        return graphError(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.');
      return json(201, {
        id: '1616990032035',
        webUrl: `https://teams.microsoft.com/l/message/${teams[2]}/1616990032035`,
      });
    }
    if (!issued.includes(bearer))
      return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    const send = /^\/v1\.0\/users\/([^/]+)\/sendMail$/.exec(req.path);
    if (send && req.method === 'POST') {
      sent.push({ mailbox: send[1]!, payload: req.json() });
      return { status: 202 };
    }
    const list = /^\/v1\.0\/users\/([^/]+)(\/mailFolders\/[^/]+)?\/messages$/.exec(req.path);
    if (list && req.method === 'GET') {
      if (list[1] === 'nobody@contoso.com')
        return graphError(404, 'ErrorInvalidUser', "The requested user 'nobody@contoso.com' is invalid.");
      return json(200, {
        '@odata.context': 'x',
        value: inbox,
        '@odata.nextLink': `${server.url}/v1.0/next?$skip=1`,
      });
    }
    return graphError(400, 'BadRequest', `Unsupported path ${req.path}`);
  });
  return Object.assign(server, { sent, issued, workflowPosts });
}
