/**
 * Store operation latency: a decorator around any RegistryStore that times every method
 * returning a promise, labelled by method name (`operation`). A Proxy rather than a class that
 * repeats the port, so a method added to the port later is timed without touching this file.
 */
import { Histogram, type Registry } from 'prom-client'

/** 10 µs … 1 s: LMDB reads take microseconds, committed writes milliseconds, Redis round trips more. */
export const STORE_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

/**
 * Methods that only queue in memory (associated clients are batched and committed by a timer) or
 * answer synchronously from local state on the CONNECT path: timing them would measure next to
 * nothing and cost a closure and a promise per CONNECT.
 */
const UNTIMED = new Set<PropertyKey>(['recordClientConnected', 'recordClientDisconnected', 'getCertificateNow'])

export function instrumentStore<T extends object> (store: T, registry: Registry): T {
  const histogram = new Histogram({
    name: 'certmq_store_operation_seconds',
    help: 'Registry store operation latency, by port method',
    labelNames: ['operation'] as const,
    buckets: STORE_BUCKETS,
    registers: [registry]
  })
  const wrapped = new Map<PropertyKey, unknown>()
  return new Proxy(store, {
    get (target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || typeof property !== 'string') return value
      let timed = wrapped.get(property)
      if (timed === undefined && UNTIMED.has(property)) {
        // called on the store itself, so its own calls inside do not come through this trap
        timed = (value as (...args: unknown[]) => unknown).bind(target)
        wrapped.set(property, timed)
      } else if (timed === undefined) {
        const child = histogram.labels(property)
        const method = value as (...args: unknown[]) => unknown
        timed = function (this: unknown, ...args: unknown[]): unknown {
          const started = performance.now()
          const result = method.apply(this === receiver ? target : this, args)
          if (!(result instanceof Promise)) return result
          const observe = (): void => { child.observe((performance.now() - started) / 1000) }
          result.then(observe, observe)
          return result
        }
        wrapped.set(property, timed)
      }
      return timed
    }
  })
}
