import { describe, expect, it } from 'vitest'
import { SerialRuns } from './serial-runs.ts'

describe('SerialRuns', () => {
  it('starts a run only after the one in progress, even when that one fails', async () => {
    const runs = new SerialRuns()
    const order: string[] = []
    let release = () => {}
    const first = runs.run(async () => {
      order.push('first starts')
      await new Promise<void>((resolve) => {
        release = resolve
      })
      order.push('first fails')
      throw new Error('store down')
    })
    const second = runs.run(async () => {
      order.push('second')
    })
    expect(runs.busy).toBe(true)
    await new Promise((resolve) => setImmediate(resolve))
    expect(order).toEqual(['first starts'])
    release()
    await expect(first).rejects.toThrow('store down')
    await second
    expect(order).toEqual(['first starts', 'first fails', 'second'])
    await new Promise((resolve) => setImmediate(resolve))
    expect(runs.busy).toBe(false)
  })

  it('waits for `wait` before the task', async () => {
    const runs = new SerialRuns()
    const order: string[] = []
    await runs.run(
      async () => {
        order.push('task')
      },
      async () => {
        order.push('wait')
      },
    )
    expect(order).toEqual(['wait', 'task'])
  })
})
