import { describe, expect, it } from 'vitest';
import { JOB_TASK, jobTask, RUN_TASK } from '../../engine/db/queue.ts';
import { ALL_ROLES, parseWorkerRoles, queueTasks, roleOfTask } from '../../engine/queue/roles.ts';
import { SCHEDULE_TASK } from '../../engine/runtime/cron.ts';

const noop = async () => {};
const TASKS = {
  [RUN_TASK]: noop,
  [JOB_TASK]: noop,
  [jobTask('EMAIL_SEND')]: noop,
  [jobTask('WEBHOOK_SEND')]: noop,
  [SCHEDULE_TASK]: noop,
};

describe('worker roles', () => {
  it('gives the runner only the tasks of its roles; the schedules have a runner of their own', () => {
    expect(Object.keys(queueTasks(TASKS, ALL_ROLES)).sort()).toEqual(
      [RUN_TASK, JOB_TASK, 'atlas.job:EMAIL_SEND', 'atlas.job:WEBHOOK_SEND'].sort(),
    );
    expect(Object.keys(queueTasks(TASKS, parseWorkerRoles('jobs:EMAIL_SEND')))).toEqual([
      'atlas.job:EMAIL_SEND',
    ]);
    expect(Object.keys(queueTasks(TASKS, parseWorkerRoles('runs,scheduler')))).toEqual([RUN_TASK]);
    // `jobs` is every type, so it also serves jobs queued under the former single task.
    expect(Object.keys(queueTasks(TASKS, parseWorkerRoles('jobs'))).sort()).toEqual(
      [JOB_TASK, 'atlas.job:EMAIL_SEND', 'atlas.job:WEBHOOK_SEND'].sort(),
    );
  });

  it('names the role of each task as --only spells it', () => {
    expect([RUN_TASK, SCHEDULE_TASK, JOB_TASK, jobTask('KB_INGEST')].map(roleOfTask)).toEqual([
      'runs',
      'scheduler',
      'jobs',
      'jobs:KB_INGEST',
    ]);
  });

  it.each([
    ['', '--only names no role'],
    [' , ', '--only names no role'],
    ['run', '"run" is not a worker role'],
    ['jobs:email_send', '"jobs:email_send" is not a worker role'],
    ['runs,jobs:', '"jobs:" is not a worker role'],
  ])('refuses %j in one sentence', (spec, message) => {
    expect(() => parseWorkerRoles(spec)).toThrow(message);
  });
});
