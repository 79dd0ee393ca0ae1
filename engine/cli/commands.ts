// The command list: one line per command, each loaded on demand.
import { registerCommand } from './main.ts';

registerCommand(
  'serve',
  'Run the engine: migrations, HTTP API, worker and scheduler',
  async () => (await import('./serve.ts')).serve,
);
registerCommand(
  'worker',
  'Run a worker and the scheduler, or some roles only (--only), against the same DATABASE_URL',
  async () => (await import('./serve.ts')).worker,
);
registerCommand(
  'migrate',
  'Apply, list or roll back database migrations (up, status, down)',
  async () => (await import('./migrate.ts')).migrate,
);
registerCommand(
  'validate',
  'Validate manifests (exit 0 when valid, 1 when not)',
  async () => (await import('./validate.ts')).validate,
);
registerCommand(
  'schema',
  'Write the manifest JSON Schemas to a directory, for editors',
  async () => (await import('./schema.ts')).schema,
);
registerCommand(
  'connectors',
  'List connectors and their actions',
  async () => (await import('./connectors.ts')).connectors,
);
registerCommand(
  'connector',
  'Create a connector package (new <id>)',
  async () => (await import('./connector.ts')).connector,
);
registerCommand(
  'run',
  'Start a workflow run, wait for it, or print its plan (--dry-run)',
  async () => (await import('./run.ts')).run,
);
registerCommand('token', 'Mint a development API token', async () => (await import('./token.ts')).token);
registerCommand(
  'tenants',
  'Add, list, disable or enable tenants',
  async () => (await import('./tenants.ts')).tenants,
);
registerCommand(
  'audit',
  'Verify the hash-chained audit log, anchor it, erase old payloads',
  async () => (await import('./audit.ts')).audit,
);
registerCommand(
  'workflows',
  'List workflows for a tenant, enable or disable them',
  async () => (await import('./workflows.ts')).workflows,
);
registerCommand(
  'runs',
  'List runs, show one, retry or cancel it',
  async () => (await import('./runs.ts')).runs,
);
registerCommand('jobs', 'Show a typed job, retry or cancel it', async () => (await import('./jobs.ts')).jobs);
registerCommand(
  'files',
  "Upload, list, link or delete a tenant's files",
  async () => (await import('./files.ts')).files,
);
registerCommand(
  'import',
  'Convert n8n workflow exports into Atlas manifests, with a report',
  async () => (await import('./import.ts')).importCommand,
);
registerCommand(
  'kb',
  'Ingest files into a tenant’s knowledge base, or search it',
  async () => (await import('./kb.ts')).kb,
);
