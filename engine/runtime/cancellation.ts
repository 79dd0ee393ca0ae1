/**
 * Cancellation: the abort signal of each run in flight in this process, fired by a cancel;
 * and its wake-up, called when one of its waits ended while it runs (a signal, a child's end).
 */
export class Cancellations {
  readonly #controllers = new Map<string, AbortController>();
  readonly #wakers = new Map<string, () => void>();

  /** Calls `wake` whenever a wait of the run ends while this process runs it, until released. */
  onWake(runId: string, wake: () => void): () => void {
    this.#wakers.set(runId, wake);
    return () => {
      if (this.#wakers.get(runId) === wake) this.#wakers.delete(runId);
    };
  }

  wake(runId: string): void {
    this.#wakers.get(runId)?.();
  }

  /** The signal the run's in-flight attempts watch, until `release`. */
  watch(runId: string): { signal: AbortSignal; release(): void } {
    const controller = new AbortController();
    this.#controllers.set(runId, controller);
    return {
      signal: controller.signal,
      release: () => {
        if (this.#controllers.get(runId) === controller) this.#controllers.delete(runId);
      },
    };
  }

  /** Whether this process is running the run right now. */
  isRunning(runId: string): boolean {
    return this.#controllers.has(runId);
  }

  /** The runs this process is running right now. */
  running(): string[] {
    return [...this.#controllers.keys()];
  }

  abort(runId: string): void {
    this.#controllers.get(runId)?.abort(new Error('the run was cancelled'));
  }
}
