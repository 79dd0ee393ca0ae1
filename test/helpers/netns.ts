/**
 * A network namespace joined to this one by a veth pair, for tests that partition a process
 * from the database: `cut()` takes the link down (packets are lost, nothing is reset),
 * `restore()` brings it back. Needs root and `ip`; `remove()` deletes the namespace and the
 * pair, and must run on failure too.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ip = (...args: string[]) => run('ip', args);

export interface Netns {
  name: string;
  /** The address of this side of the link, which the namespace reaches. */
  hostAddress: string;
  /** The command prefix that runs a program inside the namespace. */
  exec: string[];
  cut(): Promise<void>;
  restore(): Promise<void>;
  remove(): Promise<void>;
}

/** Why network namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'it needs root to create network namespaces';
  const found = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].some((p) => fs.existsSync(p));
  return found ? undefined : 'the `ip` command (iproute2) is not installed';
}

export async function createNetns(): Promise<Netns> {
  const id = randomBytes(3).toString('hex');
  const name = `atlas-${id}`;
  const host = `at${id}h`;
  const inner = `at${id}n`;
  // A /30 of 10.233.0.0/16 picked at random, on links this test owns.
  const prefix = `10.233.${randomInt(256)}`;
  const low = randomInt(64) * 4;
  const hostAddress = `${prefix}.${low + 1}`;
  const innerAddress = `${prefix}.${low + 2}`;
  const remove = async () => {
    await ip('netns', 'del', name).catch(() => {});
    await ip('link', 'del', host).catch(() => {});
  };
  try {
    await ip('netns', 'add', name);
    await ip('link', 'add', host, 'type', 'veth', 'peer', 'name', inner);
    await ip('link', 'set', inner, 'netns', name);
    await ip('addr', 'add', `${hostAddress}/30`, 'dev', host);
    await ip('link', 'set', host, 'up');
    await ip('netns', 'exec', name, 'ip', 'addr', 'add', `${innerAddress}/30`, 'dev', inner);
    await ip('netns', 'exec', name, 'ip', 'link', 'set', inner, 'up');
    await ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    name,
    hostAddress,
    exec: ['ip', 'netns', 'exec', name],
    cut: async () => {
      await ip('link', 'set', host, 'down');
    },
    restore: async () => {
      await ip('link', 'set', host, 'up');
    },
    remove,
  };
}
