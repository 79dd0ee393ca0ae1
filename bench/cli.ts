// Start-up time of `atlas` commands, process start included, against a running engine:
// each command's median wall time and CPU time beside `node -e 0` measured in the same
// rounds (the commands are interleaved, so load on the machine falls on all of them alike),
// and the same commands from the TypeScript sources (ATLAS_FROM_SOURCE=1) for comparison.
// Run: npm run bench:cli [-- --rounds 7]
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { environment } from '../engine/config.ts';
import { benchDatabase } from './support.ts';

const ROOT = path.join(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/atlas.js');
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const ROUNDS = Number(values.rounds);

// Reports the child's own CPU time (user + system) on fd 3 as it exits.
const CPU_PROBE = `data:text/javascript,${encodeURIComponent(
  "import { writeSync } from 'node:fs'; process.on('exit', () => { const u = process.cpuUsage(); try { writeSync(3, String((u.user + u.system) / 1000)); } catch {} });",
)}`;

interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** Runs node with `args`, failing on a non-zero exit; returns its wall and CPU time. */
function measure(args: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['--import', CPU_PROBE, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let cpu = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.stdio[3]!.on('data', (d) => (cpu += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - start;
      if (code !== 0) reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`));
      else resolve({ wallMs, cpuMs: Number(cpu) });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-bench-cli-'));
const database = await benchDatabase('atlas_cli');
const { PATH, HOME } = environment();
const env: NodeJS.ProcessEnv = {
  PATH,
  HOME,
  DATABASE_URL: database.url,
  ATLAS_HOME: home,
  ATLAS_JWT_SECRET: 'bench-secret-bench-secret-bench-secret!',
  LOG_LEVEL: 'warn',
  PORT: '0',
};

// The build bin/atlas.js runs from (npm install makes it; the sources may have changed since).
await measure(['bin/build-dist.js'], env);
const engine = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
try {
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('Atlas is listening')) resolve();
    };
    engine.stdout.on('data', onData);
    engine.stderr.on('data', onData);
    engine.once('exit', () => reject(new Error(`atlas serve exited:\n${output}`)));
  });
  await measure([BIN, 'tenants', 'add', 'bench'], env);

  const run = ['run', 'WF-001', '--tenant', 'bench', '--input', '{"name":"Ada"}', '--wait'];
  const fromSource = { ...env, ATLAS_FROM_SOURCE: '1' };
  const cases: Array<[string, string[], NodeJS.ProcessEnv]> = [
    ['node -e 0', ['-e', '0'], env],
    ['atlas --help', [BIN, '--help'], env],
    ['atlas token --tenant bench', [BIN, 'token', '--tenant', 'bench'], env],
    ['atlas tenants list', [BIN, 'tenants', 'list'], env],
    ['atlas runs list --tenant bench', [BIN, 'runs', 'list', '--tenant', 'bench'], env],
    ['atlas validate manifests/', [BIN, 'validate', 'manifests/'], env],
    ['atlas run WF-001 --wait', [BIN, ...run], env],
    ['atlas token (sources, tsx)', [BIN, 'token', '--tenant', 'bench'], fromSource],
    ['atlas run WF-001 --wait (sources, tsx)', [BIN, ...run], fromSource],
  ];
  const samples = new Map<string, Sample[]>(cases.map(([name]) => [name, []]));
  const loads: number[] = [];
  // One warm-up round (file cache), then the measured ones.
  for (let round = 0; round <= ROUNDS; round++) {
    loads.push(os.loadavg()[0]!);
    for (const [name, args, caseEnv] of cases) {
      const sample = await measure(args, caseEnv);
      if (round > 0) samples.get(name)!.push(sample);
    }
  }
  const base = samples.get('node -e 0')!;
  const baseWall = median(base.map((s) => s.wallMs));
  const baseCpu = median(base.map((s) => s.cpuMs));
  console.log(
    `${ROUNDS} rounds; load average (1 min) ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)} on ${os.cpus().length} cores`,
  );
  console.log(
    `${'command'.padEnd(40)} ${'wall ms'.padStart(8)} ${'×node'.padStart(6)} ${'cpu ms'.padStart(8)}`,
  );
  for (const [name, list] of samples) {
    const wall = median(list.map((s) => s.wallMs));
    const cpu = median(list.map((s) => s.cpuMs));
    console.log(
      `${name.padEnd(40)} ${wall.toFixed(0).padStart(8)} ${(wall / baseWall).toFixed(1).padStart(6)} ${cpu.toFixed(0).padStart(8)}`,
    );
  }
  console.log(`(node -e 0: ${baseWall.toFixed(0)} ms wall, ${baseCpu.toFixed(0)} ms CPU)`);
} finally {
  engine.kill('SIGTERM');
  await new Promise((resolve) => engine.once('exit', resolve));
  await database.stop();
  await fs.rm(home, { recursive: true, force: true });
}
