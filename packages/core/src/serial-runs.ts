/**
 * Runs of one task, one after another: a run asked for while one is in progress starts after it
 * (whatever its outcome), so each run covers everything that happened before it was asked for.
 * The usage recorder and the abuse monitor flush through one each.
 */
export class SerialRuns {
  private current: Promise<void> | null = null

  /** True while a run is in progress or waiting for the one before it. */
  get busy(): boolean {
    return this.current !== null
  }

  /**
   * Runs `task` after the run in progress (and after `wait`, when given). Rejects with the task's
   * error; a rejection nobody awaits is observed here, never unhandled.
   */
  run(task: () => Promise<void>, wait?: () => Promise<void>): Promise<void> {
    const previous = (this.current ?? Promise.resolve()).catch(() => {})
    const run = (wait === undefined ? previous : previous.then(wait)).then(task)
    this.current = run
    run
      .finally(() => {
        if (this.current === run) this.current = null
      })
      .catch(() => {})
    return run
  }
}
