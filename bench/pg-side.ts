// PostgreSQL's side of a benchmark: the CPU its backends for one database spent over the
// measured window (read from /proc, so only for a server on this machine) and its time by
// statement from pg_stat_statements (planning and execution), when the extension is loaded.
import fs from 'node:fs';
import type { Knex } from 'knex';

const TICKS_PER_S = 100;

interface Statement {
  query: string;
  calls: number;
  plan_ms: number;
  exec_ms: number;
}

export interface PgSide {
  /** Backend CPU in ms over the window; null where the server's processes are not readable. */
  cpuMs: number | null;
  /** Statements by total time, or null without pg_stat_statements. */
  statements: Statement[] | null;
}

function cpuTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

async function backendTicks(db: Knex): Promise<Map<number, number> | null> {
  const { rows } = await db.raw<{ rows: Array<{ pid: number }> }>(
    'select pid from pg_stat_activity where datname = current_database()',
  );
  const ticks = new Map<number, number>();
  for (const { pid } of rows) {
    const t = cpuTicks(pid);
    if (t === null) return null;
    ticks.set(pid, t);
  }
  return ticks;
}

/** Starts the window; the returned function ends it and reads both sides. */
export async function watchPostgres(db: Knex): Promise<() => Promise<PgSide>> {
  const statements = await db
    .raw('create extension if not exists pg_stat_statements')
    .then(() => db.raw('select pg_stat_statements_reset()'))
    .then(
      () => true,
      () => false,
    );
  const before = await backendTicks(db);
  return async () => {
    const after = await backendTicks(db);
    let cpuMs: number | null = null;
    if (before && after) {
      let ticks = 0;
      for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
      cpuMs = (ticks * 1000) / TICKS_PER_S;
    }
    if (!statements) return { cpuMs, statements: null };
    const { rows } = await db.raw<{ rows: Statement[] }>(
      `select left(regexp_replace(query, '\\s+', ' ', 'g'), 110) as query, calls::int as calls,
              total_plan_time as plan_ms, total_exec_time as exec_ms
         from pg_stat_statements
        where dbid = (select oid from pg_database where datname = current_database())
        order by total_plan_time + total_exec_time desc limit 10`,
    );
    return { cpuMs, statements: rows };
  };
}

/** The PostgreSQL part of a profile's summary, per request. */
export function formatPgSide(side: PgSide, requests: number): string {
  const per = (ms: number) => `${((ms * 1000) / Math.max(requests, 1)).toFixed(0)} µs`;
  const lines = [
    side.cpuMs === null
      ? 'PostgreSQL CPU: not readable (the server is not on this machine)'
      : `PostgreSQL CPU: ${per(side.cpuMs)} per request in the database's backends`,
  ];
  if (side.statements === null) lines.push('by statement: pg_stat_statements is not loaded');
  else {
    const plan = side.statements.reduce((a, s) => a + s.plan_ms, 0);
    const exec = side.statements.reduce((a, s) => a + s.exec_ms, 0);
    lines.push(
      `by statement (top ${side.statements.length}: plan ${per(plan)}, execute ${per(exec)} per request):`,
    );
    for (const s of side.statements) {
      lines.push(
        `  ${(s.calls / Math.max(requests, 1)).toFixed(2).padStart(6)} calls  plan ${per(s.plan_ms).padStart(7)}  exec ${per(s.exec_ms).padStart(7)}  ${s.query}`,
      );
    }
  }
  return lines.join('\n');
}
