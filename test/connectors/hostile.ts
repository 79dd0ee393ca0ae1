/**
 * The hostile answers every action must survive: each ends in a clear ConnectorError, never
 * a crash (TypeError, SyntaxError, out of memory).
 */
import { expect } from 'vitest';
import { ConnectorError } from '../../engine/connector-sdk/index.ts';
import { type FakeReply, type FakeServer, hostile } from '../fakes/server.ts';

export async function expectConnectorError(promise: Promise<unknown>): Promise<ConnectorError> {
  const err = await promise.then(
    () => new Error('expected the action to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

/** Runs the action once per hostile answer and checks the error it fails with. */
export async function expectHostileHandled(
  fake: FakeServer,
  run: () => Promise<unknown>,
  extra: FakeReply[] = [],
): Promise<void> {
  const cases: Array<[FakeReply, string[]]> = [
    [hostile.invalidJson(), ['invalid_response']],
    [hostile.huge(), ['response_too_large']],
    [hostile.wrongShape(), ['invalid_response']],
    [hostile.tooDeep(), ['invalid_response']],
    [hostile.html502(), ['provider_unavailable']],
    ...extra.map((reply): [FakeReply, string[]] => [reply, ['invalid_response']]),
  ];
  for (const [reply, codes] of cases) {
    fake.enqueue(reply);
    const err = await expectConnectorError(run());
    expect(codes, `answer ${JSON.stringify(reply).slice(0, 80)} gave ${err.code}: ${err.message}`).toContain(
      err.code,
    );
  }
}
