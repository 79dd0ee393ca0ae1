import fs from 'node:fs';
import { summarise } from './cpu-profile.ts';
const p = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8'));
const s = summarise(p, 100000);
const busy = s.totalMs - (s.functions.find((f) => f.name.startsWith('(idle)'))?.selfMs ?? 0);
console.log('busy ms', busy.toFixed(0));
for (const f of [...s.functions].sort((a, b) => b.totalMs - a.totalMs).filter((f) => /engine\/|koa|knex|pg|ajv|jose|luxon|crypto|stripe|canonical/.test(f.name)).slice(0, Number(process.argv[3] ?? 45)))
  console.log(((100 * f.totalMs) / busy).toFixed(1).padStart(5), '%tot', ((100 * f.selfMs) / busy).toFixed(1).padStart(5), '%self', f.name);
