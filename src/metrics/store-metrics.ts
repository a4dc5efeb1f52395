/**
 * Store operation latency: a decorator around any RegistryStore that times every method
 * returning a promise, labelled by method name (`operation`). It finds the methods on the store
 * itself, so a method added to the port later is timed without touching this file. The wrapper is
 * built once, an object whose own properties are the store's methods bound to the store, rather
 * than a Proxy: a Proxy's trap would run on every read of a method, and the CONNECT path reads
 * the store's on every CONNECT.
 */
import { Histogram, type Registry } from 'prom-client'

/** 10 µs … 1 s: LMDB reads take microseconds, committed writes milliseconds, Redis round trips more. */
export const STORE_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

/**
 * Methods that only queue in memory (associated clients are batched and committed by a timer) or
 * answer synchronously from local state on the CONNECT path: timing them would measure next to
 * nothing and cost a closure and a promise per CONNECT.
 */
const UNTIMED = new Set<string>(['recordClientConnected', 'recordClientDisconnected', 'getCertificateNow', 'certificateIdOfClientIdNow'])

export function instrumentStore<T extends object> (store: T, registry: Registry): T {
  const histogram = new Histogram({
    name: 'certmq_store_operation_seconds',
    help: 'Registry store operation latency, by port method',
    labelNames: ['operation'] as const,
    buckets: STORE_BUCKETS,
    registers: [registry]
  })
  // the store as prototype: its other properties read through; every method runs on the store
  // itself, so its own calls inside are not timed twice and its state stays on it
  const wrapper: Record<string, unknown> = Object.create(store)
  for (const name of methodNames(store)) {
    const method = (store as Record<string, unknown>)[name] as (...args: unknown[]) => unknown
    if (UNTIMED.has(name)) {
      wrapper[name] = method.bind(store)
      continue
    }
    const child = histogram.labels(name)
    wrapper[name] = (...args: unknown[]): unknown => {
      const started = performance.now()
      const result = method.apply(store, args)
      if (!(result instanceof Promise)) return result
      const observe = (): void => { child.observe((performance.now() - started) / 1000) }
      result.then(observe, observe)
      return result
    }
  }
  return wrapper as T
}

/** The names of the functions on `object` and its prototypes, Object.prototype's and constructors aside. */
function methodNames (object: object): Set<string> {
  const names = new Set<string>()
  for (let o: object | null = object; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === 'constructor') continue
      const descriptor = Object.getOwnPropertyDescriptor(o, name)
      if (typeof descriptor?.value === 'function') names.add(name)
    }
  }
  return names
}
