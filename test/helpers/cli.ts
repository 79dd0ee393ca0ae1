import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { environment } from '../../engine/config.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/atlas.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a spawned `atlas`: the caller's minus anything that would leak in. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const { PATH, HOME } = environment();
  const env: NodeJS.ProcessEnv = { PATH, HOME, LOG_LEVEL: 'warn' };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Runs `atlas ...args` to completion (bounded by `timeoutMs`). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<CliResult> {
  return runProcess(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeoutMs });
}

/** Runs a program to completion, collecting its output; killed past `timeoutMs`. */
export function runProcess(
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface LongRunning {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/** Starts `atlas ...args`; `prefix` runs it under another command (`ip netns exec NS`). */
export function startCli(args: string[], env: NodeJS.ProcessEnv, prefix: string[] = []): LongRunning {
  const [command, ...before] = [...prefix, process.execPath];
  const child = spawn(command!, [...before, BIN, ...args], {
    env,
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = output.match(pattern);
          if (m) {
            cleanup();
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
        exited.then(() =>
          setTimeout(() => {
            if (listeners.has(check)) {
              cleanup();
              reject(new Error(`process exited before ${pattern}; output:\n${output}`));
            }
          }, 50),
        );
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A workflow of one `core.log` step with this trigger (YAML flow text), as a manifest file's text. */
export function logWorkflow(id: string, trigger: string): string {
  return `apiVersion: atlas/v1
kind: Workflow
id: ${id}
trigger: ${trigger}
steps:
  - { id: hello, uses: core.log, with: { message: hi } }
`;
}
