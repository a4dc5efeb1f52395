/** StatusBus for one node: status changes reach this process's listeners synchronously. */
import type { StatusBus, StatusEvent } from './ports.js'

export class LocalStatusBus implements StatusBus {
  private readonly listeners = new Set<(event: StatusEvent) => void>()

  async publish (event: StatusEvent): Promise<void> {
    for (const listener of this.listeners) listener(event)
  }

  subscribe (listener: (event: StatusEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async close (): Promise<void> {
    this.listeners.clear()
  }
}
