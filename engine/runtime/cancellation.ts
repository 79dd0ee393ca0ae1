/** Cancellation: the abort signal of each run in flight in this process, fired by a cancel. */
export class Cancellations {
  readonly #controllers = new Map<string, AbortController>();

  /** The signal the run's in-flight attempts watch, until `release`. */
  watch(runId: string): { signal: AbortSignal; release(): void } {
    const controller = new AbortController();
    this.#controllers.set(runId, controller);
    return { signal: controller.signal, release: () => this.#controllers.delete(runId) };
  }

  abort(runId: string): void {
    this.#controllers.get(runId)?.abort(new Error('the run was cancelled'));
  }
}
