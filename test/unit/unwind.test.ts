import { describe, expect, it } from 'vitest'
import { unwind } from '../../src/unwind.js'

describe('unwind', () => {
  it('runs every step last first', async () => {
    const ran: number[] = []
    await unwind([() => { ran.push(1) }, async () => { ran.push(2) }, () => { ran.push(3) }], () => {})
    expect(ran).toEqual([3, 2, 1])
  })

  it('runs the steps after one that fails, tells each failure and throws the first once all ran', async () => {
    const ran: string[] = []
    const failures: unknown[] = []
    const first = new Error('listener would not close')
    const second = new Error('admin thread')
    const run = unwind([
      () => { ran.push('store closed') },
      () => { ran.push('broker'); throw second },
      async () => { ran.push('listener'); throw first }
    ], (err) => { failures.push(err) })
    await expect(run).rejects.toBe(first)
    expect(ran).toEqual(['listener', 'broker', 'store closed'])
    expect(failures).toEqual([first, second])
  })
})
