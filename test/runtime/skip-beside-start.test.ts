/**
 * A step whose `if` is false and a step that starts, planned in the same pass: the step that
 * starts must run exactly once (one attempt, one call), not be taken for an attempt a dead
 * worker left running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';

const MANIFEST = `apiVersion: atlas/v1
kind: Workflow
id: WF-930
trigger: { type: manual }
steps:
  - id: skipped
    uses: core.log
    if: false
    with: { message: never }
  - id: starts
    uses: core.set
    needs: []
    with: { value: once }
  - id: alsoSkipped
    uses: core.log
    needs: []
    if: false
    with: { message: never }
`;

describe('a skip planned beside a start', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine(database, { manifests: { 'wf.yaml': MANIFEST } });
    await engine.startWorker(2);
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('runs the started step once, in one attempt', async () => {
    const run = await engine.runToEnd('WF-930');
    expect(run.status).toBe('succeeded');
    const starts = run.steps.find((s) => s.id === 'starts')!;
    expect(starts.attempts.map((a) => a.status)).toEqual(['succeeded']);
    expect(run.steps.map((s) => s.status)).toEqual(['skipped', 'succeeded', 'skipped']);
  });
});
