import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';

describe('atlas CLI', () => {
  it('lists its commands', async () => {
    const r = await runCli(['--help'], cliEnv());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/serve\s+Run the engine/);
    expect(r.stdout).toMatch(/worker\s+/);
    expect(r.stdout).toMatch(/migrate\s+/);
  });

  it('answers an unknown command with exit code 2', async () => {
    const r = await runCli(['frobnicate'], cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  it('answers an unknown option with usage and exit code 2', async () => {
    const r = await runCli(['serve', '--bogus'], cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--bogus'");
  });

  it('rejects a wrong migrate action', async () => {
    const r = await runCli(['migrate', 'sideways'], cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown action "sideways"');
  });
});

describe('bad configuration: one sentence naming the variable, exit code 1', () => {
  const database = useTestDatabase();
  let blocker: net.Server;
  let busyPort = 0;
  beforeAll(async () => {
    blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    busyPort = (blocker.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

  const cases: Array<[string, () => Record<string, string>, RegExp]> = [
    [
      'an unparsable DATABASE_URL',
      () => ({ DATABASE_URL: 'http//nope' }),
      /^atlas serve: DATABASE_URL is not a URL/,
    ],
    [
      'an unknown LOG_LEVEL',
      () => ({ LOG_LEVEL: 'chatty' }),
      /^atlas serve: LOG_LEVEL must be one of .* \(got "chatty"\)$/,
    ],
    ['a bad PORT', () => ({ PORT: 'eighty' }), /^atlas serve: PORT must be a whole number/],
    [
      'an unreachable database',
      () => ({ DATABASE_URL: 'postgres://atlas:x@127.0.0.1:1/atlas' }),
      /^atlas serve: DATABASE_URL refused the connection/,
    ],
    [
      'a port in use',
      () => ({ PORT: String(busyPort), DATABASE_URL: database.url }),
      /^atlas serve: PORT \d+ is already in use on 127\.0\.0\.1$/,
    ],
  ];

  it.each(cases)('%s', async (_name, env, message) => {
    const extra = env();
    const r = await runCli(['serve'], cliEnv(extra));
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
