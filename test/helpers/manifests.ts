/** A manually triggered workflow manifest with the given steps (YAML, indented under `steps:`). */
export const manualWorkflow = (id: string, steps: string) => `apiVersion: atlas/v1
kind: Workflow
id: ${id}
trigger: { type: manual }
steps:
${steps}`;
