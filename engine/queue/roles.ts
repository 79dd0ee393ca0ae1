/**
 * Worker roles: which queue tasks one worker process serves, so that workflow runs, each
 * typed job's sender and the scheduler can be deployed and scaled apart
 * (`atlas worker --only runs,jobs:EMAIL_SEND,scheduler`). A task no running worker serves
 * waits in the queue, never lost, and shows per role in `/metrics`.
 */
import type { TaskList } from 'graphile-worker';
import { JOB_TYPES, type JobType } from '../connector-sdk/index.ts';
import { JOB_TASK, JOB_TASK_PREFIX, RUN_TASK } from '../db/queue.ts';
import { AtlasError } from '../errors.ts';
import { SCHEDULE_TASK } from '../runtime/cron.ts';

export interface WorkerRoles {
  /** Advance workflow runs (`atlas.run`). */
  runs: boolean;
  /** Fire the catalogue's schedules. */
  scheduler: boolean;
  /** The typed jobs served here. */
  jobTypes: ReadonlySet<JobType>;
}

export const ALL_ROLES: WorkerRoles = { runs: true, scheduler: true, jobTypes: new Set(JOB_TYPES) };

export class WorkerRoleError extends AtlasError {
  constructor(message: string) {
    super('invalid_worker_role', message);
  }
}

const EXPECTED = `expected runs, scheduler, jobs or jobs:<TYPE> with TYPE one of ${JOB_TYPES.join(', ')}`;

/** `runs,jobs:EMAIL_SEND,scheduler` (`jobs` alone is every job type); a bad role is one sentence. */
export function parseWorkerRoles(spec: string): WorkerRoles {
  const names = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new WorkerRoleError(`--only names no role; ${EXPECTED}`);
  let runs = false;
  let scheduler = false;
  const jobTypes = new Set<JobType>();
  for (const name of names) {
    if (name === 'runs') runs = true;
    else if (name === 'scheduler') scheduler = true;
    else if (name === 'jobs') for (const type of JOB_TYPES) jobTypes.add(type);
    else if (name.startsWith('jobs:') && (JOB_TYPES as readonly string[]).includes(name.slice(5)))
      jobTypes.add(name.slice(5) as JobType);
    else throw new WorkerRoleError(`"${name}" is not a worker role; ${EXPECTED}`);
  }
  return { runs, scheduler, jobTypes };
}

/** The role that serves a queue task: `runs`, `scheduler`, `jobs:<TYPE>`, or `jobs` (every type). */
export function roleOfTask(task: string): string {
  if (task === RUN_TASK) return 'runs';
  if (task === SCHEDULE_TASK) return 'scheduler';
  if (task === JOB_TASK) return 'jobs';
  if (task.startsWith(JOB_TASK_PREFIX)) return `jobs:${task.slice(JOB_TASK_PREFIX.length)}`;
  return task;
}

/**
 * The runner's tasks for these roles (the schedules have a runner of their own). A job queued
 * before job types had tasks of their own (`atlas.job`) is served where every type is.
 */
export function queueTasks(tasks: TaskList, roles: WorkerRoles): TaskList {
  const chosen: TaskList = {};
  for (const [task, handler] of Object.entries(tasks)) {
    if (task === SCHEDULE_TASK) continue;
    const role = roleOfTask(task);
    const served =
      role === 'runs'
        ? roles.runs
        : role === 'jobs'
          ? roles.jobTypes.size === JOB_TYPES.length
          : role.startsWith('jobs:') && roles.jobTypes.has(role.slice(5) as JobType);
    if (served) chosen[task] = handler;
  }
  return chosen;
}

/** The roles as `--only` spells them, for logs and the start line. */
export function describeRoles(roles: WorkerRoles): string {
  const names = [
    ...(roles.runs ? ['runs'] : []),
    ...(roles.jobTypes.size === JOB_TYPES.length ? ['jobs'] : [...roles.jobTypes].map((t) => `jobs:${t}`)),
    ...(roles.scheduler ? ['scheduler'] : []),
  ];
  return names.join(',');
}
