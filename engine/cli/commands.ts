// The command list: one line per command, each loaded on demand.
import { registerCommand } from './main.ts';

registerCommand(
  'serve',
  'Run the engine: migrations, HTTP API, worker and scheduler',
  async () => (await import('./serve.ts')).serve,
);
registerCommand(
  'worker',
  'Run a worker and the scheduler only (more machines, same DATABASE_URL)',
  async () => (await import('./serve.ts')).worker,
);
registerCommand(
  'migrate',
  'Apply, list or roll back database migrations (up, status, down)',
  async () => (await import('./migrate.ts')).migrate,
);
