/** The runtime's errors, by code, as problem+json. */

import { type HttpProblem, problem } from '../problem.ts';
import { RuntimeError } from '../runtime/errors.ts';

function runtimeProblem(err: RuntimeError): HttpProblem {
  switch (err.code) {
    case 'not_found':
    case 'unknown_workflow':
      return problem.notFound(err.message);
    case 'invalid_input':
    case 'unknown_job_type':
      return problem.unprocessable(
        err.message,
        err.details === undefined ? undefined : { errors: err.details },
      );
    case 'conflict':
      return problem.conflict(err.message);
    case 'tenant_disabled':
      return problem.forbidden(err.message);
  }
}

/**
 * Runs a runtime call, turning its errors into problems and letting anything else through.
 * `invalidAs` says what bad input is for this call: the body (422) or the query (400).
 */
export async function callRuntime<T>(
  call: () => Promise<T>,
  invalidAs: 'body' | 'query' = 'body',
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof RuntimeError)) throw err;
    if (invalidAs === 'query' && err.code === 'invalid_input') throw problem.badRequest(err.message);
    throw runtimeProblem(err);
  }
}
