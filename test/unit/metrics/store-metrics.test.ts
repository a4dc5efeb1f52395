import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { instrumentStore } from '../../../src/metrics/store-metrics.js'

class Shelf {
  readonly label = 'shelf'
  private readonly items = new Map<string, string>([['a', 'apple']])
  async get (key: string): Promise<string | undefined> { return this.items.get(key) }
  async fail (): Promise<never> { throw new Error('backend down') }
  async put (key: string, value: string): Promise<void> { this.items.set(key, value); this.writes++ }
  async getTwice (key: string): Promise<string | undefined> { await this.get(key); return await this.get(key) }
  writes = 0
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

  it('runs every method on the store itself: the state it writes stays there, and its calls to its own methods are not timed', async () => {
    const registry = new Registry()
    const store = new Shelf()
    const shelf = instrumentStore(store, registry)
    await shelf.put('b', 'banana')
    expect(await store.get('b')).toBe('banana')
    expect(store.writes).toBe(1)
    expect(shelf.writes).toBe(1)
    expect(Object.hasOwn(shelf, 'writes')).toBe(false)
    expect(await shelf.getTwice('b')).toBe('banana')
    expect(await countOf(registry, 'getTwice')).toBe(1)
    expect(await countOf(registry, 'get')).toBeUndefined()
    expect(shelf).toBeInstanceOf(Shelf)
  })

  it('passes properties and synchronous methods through untimed', async () => {
    const registry = new Registry()
    const shelf = instrumentStore(new Shelf(), registry)
    expect(shelf.label).toBe('shelf')
    expect(shelf.size()).toBe(1)
    expect(await countOf(registry, 'size')).toBeUndefined()
  })
})
