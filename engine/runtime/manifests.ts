/** The manifest cache: the workflow version each run pinned, by content hash. */
import { loadManifestVersion } from '../db/manifest-versions.ts';
import type { RunRow } from '../db/runs.ts';
import type { Workflow } from '../manifest/types.gen.ts';
import type { RuntimeDeps } from './deps.ts';

export class WorkflowVersions {
  readonly #byHash = new Map<string, Workflow>();

  constructor(private readonly deps: RuntimeDeps) {}

  /** The workflow version the run started with (the catalogue's, or the stored one). */
  async of(run: RunRow): Promise<Workflow> {
    let workflow = this.#byHash.get(run.manifest_hash);
    if (workflow) return workflow;
    const current = this.deps.catalogue.workflow(run.workflow_id);
    workflow =
      current?.hash === run.manifest_hash
        ? current.manifest
        : ((await loadManifestVersion(this.deps.db, run.manifest_hash)) as Workflow | undefined);
    if (!workflow) throw new Error(`run ${run.id} pins manifest ${run.manifest_hash}, which is not stored`);
    this.#byHash.set(run.manifest_hash, workflow);
    return workflow;
  }
}
