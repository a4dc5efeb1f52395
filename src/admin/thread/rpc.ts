/**
 * The messages between the broker's thread and the admin thread, and the two ends of the calls
 * the admin thread makes into the broker's (thread/backend.ts lists what it may call). Values
 * cross by structured clone: records, pages and Dates arrive as they left; a Buffer arrives as a
 * Uint8Array and is made a Buffer again. A CertmqError arrives as a CertmqError with its code
 * and details, so the admin API answers exactly as it would in one thread.
 */
import type { AddressInfo } from 'node:net'
import { CertmqError } from '../../errors.js'
import { deserializeError, plainError, serializeError, type SerializedError } from '../../thread/errors.js'
import { BACKEND_TARGETS, type AdminBackend, type BackendTarget } from './backend.js'

/** Admin thread → broker thread. */
export type ToBroker =
  | { type: 'call', id: number, target: BackendTarget, method: string, args: unknown[] }
  | { type: 'log', line: string }
  | { type: 'listening', address: AddressInfo }
  /** The admin API could not listen. */
  | { type: 'failed', error: SerializedError }
  /** The admin API closed; `error` when it did not close cleanly. */
  | { type: 'closed', error?: SerializedError }

/** Broker thread → admin thread. */
export type ToAdmin =
  | { type: 'result', id: number, value: unknown }
  | { type: 'error', id: number, error: SerializedError }
  | { type: 'close' }

interface Pending { resolve: (value: unknown) => void, reject: (err: Error) => void }

/** The admin thread's end: sends calls, settles them when the answers come back. */
export class RpcClient {
  private next = 1
  private readonly pending = new Map<number, Pending>()

  constructor (private readonly send: (message: ToBroker) => void) {}

  async call (target: BackendTarget, method: string, args: unknown[]): Promise<unknown> {
    const id = this.next++
    return await new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      try {
        this.send({ type: 'call', id, target, method, args: args.map(exactBytes) })
      } catch (err) {
        // an argument that cannot be cloned: fail this call, not the thread
        this.pending.delete(id)
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    })
  }

  settle (message: Extract<ToAdmin, { type: 'result' | 'error' }>): void {
    const call = this.pending.get(message.id)
    if (call === undefined) return
    this.pending.delete(message.id)
    if (message.type === 'result') call.resolve(message.value)
    else call.reject(deserializeError(message.error))
  }
}

/**
 * An object whose listed methods are calls into the broker's thread. The assertion is the one
 * place the remote shape is claimed: `methods` comes from backend.ts, whose lists are checked
 * against the real classes' method names at compile time.
 */
export function remote<T extends object> (client: RpcClient, target: BackendTarget, methods: readonly string[]): T {
  const object: Record<string, (...args: unknown[]) => Promise<unknown>> = {}
  for (const method of methods) object[method] = async (...args: unknown[]) => await client.call(target, method, args)
  return object as T
}

/** The broker thread's end: runs one call on the backend, refusing anything backend.ts does not list. */
export async function dispatch (backend: AdminBackend, target: string, method: string, args: unknown[]): Promise<unknown> {
  if (!Object.hasOwn(BACKEND_TARGETS, target)) throw new CertmqError('INTERNAL', `admin thread: no backend ${target}`)
  const name = target as BackendTarget
  const allowed: readonly string[] = BACKEND_TARGETS[name]
  if (!allowed.includes(method)) throw new CertmqError('INTERNAL', `admin thread: ${target}.${method} may not be called`)
  const object: object = backend[name]
  const fn: unknown = Reflect.get(object, method)
  if (typeof fn !== 'function') throw new CertmqError('INTERNAL', `admin thread: ${target}.${method} is not a function`)
  return await Reflect.apply(fn, object, args.map(asBuffer))
}

/**
 * The broker thread's answer to one call: its result or its error goes back through `post`. A
 * result or error details that cannot be cloned still answer the call, with the error alone.
 */
export function answerCall (backend: AdminBackend, call: Extract<ToBroker, { type: 'call' }>, post: (message: ToAdmin) => void): void {
  const reply = (message: Extract<ToAdmin, { type: 'result' | 'error' }>): void => {
    try {
      post(message)
    } catch (err) {
      post({ type: 'error', id: call.id, error: plainError(message.type === 'error' ? message.error : serializeError(err)) })
    }
  }
  dispatch(backend, call.target, call.method, call.args).then(
    (value) => { reply({ type: 'result', id: call.id, value }) },
    (err: unknown) => { reply({ type: 'error', id: call.id, error: serializeError(err) }) })
}

/**
 * A Buffer of a few KiB is usually a view into Node's shared 8 KiB pool, and a structured clone
 * copies the whole pool with it: the bytes are copied to a buffer of their own size first.
 */
function exactBytes (value: unknown): unknown {
  return value instanceof Uint8Array && value.byteLength !== value.buffer.byteLength ? new Uint8Array(value) : value
}

function asBuffer (value: unknown): unknown {
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value
}
