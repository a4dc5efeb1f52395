import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { instrumentStore } from '../../../src/metrics/store-metrics.js'

class Shelf {
  readonly label = 'shelf'
  private readonly items = new Map<string, string>([['a', 'apple']])
  async get (key: string): Promise<string | undefined> { return this.items.get(key) }
  async fail (): Promise<never> { throw new Error('backend down') }
  size (): number { return this.items.size }
}

async function countOf (registry: Registry, operation: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric('certmq_store_operation_seconds')?.get()
  const values = (metric?.values ?? []) as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }>
  return values.find((v) => v.metricName === 'certmq_store_operation_seconds_count' && v.labels['operation'] === operation)?.value
}

describe('instrumentStore', () => {
  it('returns what the store returns, with the store as `this`, and counts each call under its method name', async () => {
    const registry = new Registry()
    const shelf = instrumentStore(new Shelf(), registry)
    expect(await shelf.get('a')).toBe('apple')
    expect(await shelf.get('b')).toBeUndefined()
    expect(await countOf(registry, 'get')).toBe(2)
  })

  it('rethrows a failure unchanged and still times the call', async () => {
    const registry = new Registry()
    const shelf = instrumentStore(new Shelf(), registry)
    await expect(shelf.fail()).rejects.toThrow('backend down')
    expect(await countOf(registry, 'fail')).toBe(1)
  })

  it('passes properties and synchronous methods through untimed', async () => {
    const registry = new Registry()
    const shelf = instrumentStore(new Shelf(), registry)
    expect(shelf.label).toBe('shelf')
    expect(shelf.size()).toBe(1)
    expect(await countOf(registry, 'size')).toBeUndefined()
  })
})
