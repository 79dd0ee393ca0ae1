import { describe, expect, it } from 'vitest';
import { CliError, UsageError } from '../../engine/cli/command.ts';
import { AtlasError, ConnectorError } from '../../engine/connector-sdk/index.ts';
import { RuntimeError } from '../../engine/runtime/index.ts';

describe("the engine's errors", () => {
  it('share one root class, each with a stable code and its own name', () => {
    const errors = [
      [new RuntimeError('not_found', 'There is no run x.'), 'not_found', 'RuntimeError'],
      [ConnectorError.retryable('rate_limited', 'slow down'), 'rate_limited', 'ConnectorError'],
      [new CliError('the database is not reachable'), 'cli_failed', 'CliError'],
      [new UsageError('an action is required'), 'usage', 'UsageError'],
    ] as const;
    for (const [err, code, name] of errors) {
      expect(err).toBeInstanceOf(AtlasError);
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe(code);
      expect(err.name).toBe(name);
    }
  });
});
