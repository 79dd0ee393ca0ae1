/**
 * RFC 9457 problem details: the one shape every HTTP error takes.
 */
export interface ProblemInit {
  status: number;
  title: string;
  detail?: string;
  /** A URI reference identifying the problem type; `about:blank` by default. */
  type?: string;
  /** Extra members, e.g. `errors` for validation failures. */
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
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
    super(init.detail ?? init.title);
    this.name = 'HttpProblem';
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    this.type = init.type ?? 'about:blank';
    this.extra = init.extra ?? {};
    this.headers = init.headers ?? {};
  }
}

export const problem = {
  badRequest: (detail: string, extra?: Record<string, unknown>) =>
    new HttpProblem({ status: 400, title: 'Bad Request', detail, ...(extra ? { extra } : {}) }),
  unauthorized: (detail: string, challenge = 'Bearer') =>
    new HttpProblem({
      status: 401,
      title: 'Unauthorized',
      detail,
      headers: { 'www-authenticate': challenge },
    }),
  forbidden: (detail: string) => new HttpProblem({ status: 403, title: 'Forbidden', detail }),
  notFound: (detail = 'The resource does not exist.') =>
    new HttpProblem({ status: 404, title: 'Not Found', detail }),
  conflict: (detail: string) => new HttpProblem({ status: 409, title: 'Conflict', detail }),
  unsupportedMediaType: (detail: string) =>
    new HttpProblem({ status: 415, title: 'Unsupported Media Type', detail }),
  tooLarge: (detail: string) => new HttpProblem({ status: 413, title: 'Content Too Large', detail }),
  unprocessable: (detail: string, extra?: Record<string, unknown>) =>
    new HttpProblem({ status: 422, title: 'Unprocessable Content', detail, ...(extra ? { extra } : {}) }),
  unavailable: (detail: string) => new HttpProblem({ status: 503, title: 'Service Unavailable', detail }),
};
