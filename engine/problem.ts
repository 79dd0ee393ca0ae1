/**
 * RFC 9457 problem details: the one shape every HTTP error takes, for the API (http/) and
 * inbound webhooks (webhooks/) alike, with one table of status titles.
 */
export interface ProblemInit {
  status: number;
  /** The status's title ({@link statusTitle}) unless given. */
  title?: string;
  detail?: string;
  /** A URI reference identifying the problem type; `about:blank` by default. */
  type?: string;
  /** Extra members, e.g. `errors` for validation failures. */
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** The title of a status: its reason phrase, or the class's for a status not listed. */
export function statusTitle(status: number): string {
  return STATUS_TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** Thrown by middleware and routes; rendered by the error handler as problem+json. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly type: string;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(init: ProblemInit) {
    const title = init.title ?? statusTitle(init.status);
    super(init.detail ?? title);
    this.name = 'HttpProblem';
    this.status = init.status;
    this.title = title;
    this.detail = init.detail;
    this.type = init.type ?? 'about:blank';
    this.extra = init.extra ?? {};
    this.headers = init.headers ?? {};
  }
}

const withExtra = (status: number, detail: string, extra?: Record<string, unknown>) =>
  new HttpProblem({ status, detail, ...(extra ? { extra } : {}) });

export const problem = {
  badRequest: (detail: string, extra?: Record<string, unknown>) => withExtra(400, detail, extra),
  unauthorized: (detail: string, challenge = 'Bearer') =>
    new HttpProblem({ status: 401, detail, headers: { 'www-authenticate': challenge } }),
  forbidden: (detail: string) => new HttpProblem({ status: 403, detail }),
  notFound: (detail = 'The resource does not exist.') => new HttpProblem({ status: 404, detail }),
  conflict: (detail: string) => new HttpProblem({ status: 409, detail }),
  unsupportedMediaType: (detail: string) => new HttpProblem({ status: 415, detail }),
  tooLarge: (detail: string) => new HttpProblem({ status: 413, detail }),
  unprocessable: (detail: string, extra?: Record<string, unknown>) => withExtra(422, detail, extra),
  unavailable: (detail: string) => new HttpProblem({ status: 503, detail }),
  /** 429 with `Retry-After` in whole seconds (at least 1). */
  tooManyRequests: (detail: string, retryAfterMs: number) =>
    new HttpProblem({
      status: 429,
      detail,
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    }),
};
