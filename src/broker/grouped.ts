/**
 * Values grouped by key, for keys that almost always hold one value (a certificate's connection,
 * its persistent session): that one is held as itself, a Set only from the second on. A Set per
 * key would be one more object kept for as long as the connection or session lives. Values must
 * not be Sets themselves.
 */
export class Grouped<K, V> {
  private readonly groups = new Map<K, V | Set<V>>()

  add (key: K, value: V): void {
    const held = this.groups.get(key)
    if (held === undefined) this.groups.set(key, value)
    else if (held instanceof Set) held.add(value)
    else if (held !== value) this.groups.set(key, new Set([held, value]))
  }

  delete (key: K, value: V): void {
    const held = this.groups.get(key)
    if (held === value) {
      this.groups.delete(key)
    } else if (held instanceof Set) {
      held.delete(value)
      // back to the value itself when one is left, as add() would have held it
      if (held.size === 1) this.groups.set(key, held.values().next().value as V)
    }
  }

  /** The values under `key`, as a copy the caller may delete them from while it goes through it. */
  get (key: K): V[] {
    const held = this.groups.get(key)
    if (held === undefined) return []
    return held instanceof Set ? [...held] : [held]
  }
}
