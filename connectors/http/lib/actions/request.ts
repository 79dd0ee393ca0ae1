import {
  ConnectorError,
  defineAction,
  type HttpAuth,
  type HttpRequest,
  JsonLimitError,
  parseDuration,
  parseJson,
} from 'atlas-engine/sdk';

type Method = NonNullable<HttpRequest['method']>;

interface RequestInput {
  method?: Method;
  url: string;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean>;
  json?: unknown;
  timeout?: string;
  accept?: number[];
  auth?: HttpAuth;
}

interface RequestOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const SECRET = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,127}$' };

/** Credentials by name: the engine adds them to the call; inputs, the ledger and the audit log never hold them. */
const AUTH_SCHEMA = {
  description:
    'Credentials the engine adds, by name: `{ integration: <provider> }` (the tenant’s OAuth token, only to the provider’s `apiHosts`), `{ bearer: <secret> }`, `{ basic: { username, password: <secret> } }` or `{ header: { name, secret } }`.',
  examples: [{ integration: 'google' }, { bearer: 'ACME_API_TOKEN' }],
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['integration'],
      properties: {
        integration: {
          type: 'string',
          pattern: '^[a-z][a-z0-9-]{0,62}$',
          description: 'The OAuthProvider whose tenant token authenticates the call.',
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['bearer'],
      properties: { bearer: { ...SECRET, description: 'The tenant secret sent as a Bearer token.' } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['basic'],
      properties: {
        basic: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password'],
          properties: {
            username: { type: 'string', description: 'The user name, in clear.' },
            password: { ...SECRET, description: 'The tenant secret holding the password.' },
          },
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['header'],
      properties: {
        header: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'secret'],
          properties: {
            name: {
              type: 'string',
              pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
              description: 'The header that carries the secret (`X-Api-Key`).',
            },
            secret: { ...SECRET, description: 'The tenant secret sent as its value.' },
          },
        },
      },
    },
  ],
};

/**
 * A plain HTTP call through the engine's hub (`ctx.http`): audited, rate limited and with
 * errors classified (429/5xx retryable, other 4xx fatal) like every connector's calls.
 */
export const request = defineAction<RequestInput, RequestOutput>({
  id: 'request',
  description: 'Send an HTTP request and return its status, headers and body (JSON when the answer is JSON).',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      method: {
        enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'],
        default: 'GET',
        description: 'The HTTP method.',
      },
      url: {
        type: 'string',
        format: 'uri',
        description: 'The absolute URL.',
        examples: ['https://api.example.com/v1/items'],
      },
      headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Request headers.' },
      query: {
        type: 'object',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
        description: 'Query parameters added to the URL.',
      },
      json: { description: 'A body sent as JSON (`content-type: application/json`).' },
      timeout: {
        type: 'string',
        pattern: '^([0-9]+(ms|s|m|h|d))+$',
        description: 'Longest time for this call; the step timeout when absent.',
        examples: ['10s'],
      },
      auth: AUTH_SCHEMA,
      accept: {
        type: 'array',
        items: { type: 'integer', minimum: 400, maximum: 599 },
        description: 'Error statuses returned as output instead of failing the step (e.g. [404]).',
        examples: [[404]],
      },
    },
  },
  output: {
    type: 'object',
    additionalProperties: false,
    required: ['status', 'headers', 'body'],
    properties: {
      status: { type: 'integer', description: 'The HTTP status.' },
      headers: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Response headers, lower-case names.',
      },
      body: { description: 'The parsed JSON body, the text of any other body, or null when empty.' },
    },
  },
  example: { status: 200, headers: { 'content-type': 'application/json' }, body: {} },
  async run(ctx, input) {
    const response = await ctx.http.request({
      method: input.method ?? 'GET',
      url: input.url,
      ...(input.headers ? { headers: input.headers } : {}),
      ...(input.query ? { query: input.query } : {}),
      ...(input.json === undefined ? {} : { json: input.json }),
      ...(input.timeout ? { timeoutMs: parseDuration(input.timeout) } : {}),
      ...(input.accept ? { accept: input.accept } : {}),
      ...(input.auth ? { auth: input.auth } : {}),
    });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: readBody(response),
    };
  },
});

function readBody(response: { headers: Headers; text(): string }): unknown {
  const text = response.text();
  if (text === '') return null;
  if (!/[/+]json\b/i.test(response.headers.get('content-type') ?? '')) return text;
  try {
    return parseJson(text);
  } catch (err) {
    // Text is kept as text, but JSON nested past the limit would trip whatever reads it next.
    if (err instanceof JsonLimitError)
      throw ConnectorError.invalidResponse(`http: the response is refused: ${err.message}`);
    return text;
  }
}
