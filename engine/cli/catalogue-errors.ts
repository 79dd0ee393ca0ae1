// How the CLI reports a catalogue that does not load, or a workflow the catalogue does not hold.
import { didYouMean } from '../connector-sdk/index.ts';
import type { Catalogue } from '../manifest/catalogue.ts';
import { CatalogueError } from '../services.ts';
import { CliError, type CliIO } from './command.ts';

export function unknownWorkflow(catalogue: Catalogue, workflowId: string): CliError {
  const ids = catalogue.workflows().map((e) => e.manifest.id);
  return new CliError(`there is no workflow ${workflowId} in the catalogue${didYouMean(workflowId, ids)}`);
}

export function catalogueFailure(io: CliIO) {
  return (err: unknown): never => {
    if (err instanceof CatalogueError) {
      io.err(err.report);
      throw new CliError('the manifest catalogue is invalid (see above)');
    }
    throw err;
  };
}
