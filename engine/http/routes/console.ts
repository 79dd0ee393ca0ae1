/**
 * What the web console needs beyond the rest of the API: the development sign-in, a change
 * feed of runs to poll, the list of jobs, the webhook deliveries with the runs they started,
 * and a workflow's manifest source.
 */
import type { AnyRoute } from '../route.ts';
import { deliveriesRoute, jobsRoute } from './console-activity.ts';
import { changesRoute } from './console-changes.ts';
import { signInInfoRoute, signInRoute } from './console-sign-in.ts';
import { workflowSourceRoute } from './console-source.ts';
import type { RouteDeps } from './deps.ts';

export { CHANGES_OVERLAP_MS } from './console-changes.ts';
export { DEV_TOKEN_TTL_S, devSignInOption } from './console-sign-in.ts';

export function consoleRoutes(deps: RouteDeps): AnyRoute[] {
  return [
    signInInfoRoute(deps),
    signInRoute(deps),
    changesRoute(deps),
    jobsRoute(deps),
    deliveriesRoute(deps),
    workflowSourceRoute(deps),
  ] as AnyRoute[];
}
