/**
 * PRODUCT §1.5 associated clients: per certificate, the most recent distinct (clientId, node)
 * pairs, newest connect first. Pure list operations; the store persists the result.
 */
import { MAX_ASSOCIATED_CLIENTS, type AssociatedClient } from '../../domain/certificate.js'

export { MAX_ASSOCIATED_CLIENTS }

function samePair (entry: AssociatedClient, clientId: string, node: string): boolean {
  return entry.clientId === clientId && entry.node === node
}

/** Puts `client` first, dropping an older entry for the same (clientId, node) and the oldest beyond the bound. */
export function withClientConnected (list: readonly AssociatedClient[], client: AssociatedClient): AssociatedClient[] {
  const others = list.filter((entry) => !samePair(entry, client.clientId, client.node))
  return [{ ...client }, ...others].slice(0, MAX_ASSOCIATED_CLIENTS)
}

/**
 * Marks the (clientId, node) entry disconnected at `at`, keeping its place. Returns undefined
 * when there is no such entry, so the caller can skip the write.
 */
export function withClientDisconnected (list: readonly AssociatedClient[], clientId: string, node: string, at: string):
  AssociatedClient[] | undefined {
  const index = list.findIndex((entry) => samePair(entry, clientId, node))
  if (index === -1) return undefined
  return list.map((entry, i) => (i === index ? { ...entry, connected: false, lastSeenAt: at } : entry))
}

/**
 * Marks every entry still shown connected as disconnected, keeping when it was last seen (its
 * node stopped without recording the disconnect, so nothing later is known). Returns undefined
 * when there is none, so the caller can skip the write.
 */
export function withAllDisconnected (list: readonly AssociatedClient[]): AssociatedClient[] | undefined {
  if (!list.some((entry) => entry.connected)) return undefined
  return list.map((entry) => (entry.connected ? { ...entry, connected: false } : entry))
}

/** One queued associated-client change: a connect, or a disconnect of (clientId, node) at `at`. */
export type ClientChange = { client: AssociatedClient } | { disconnected: { clientId: string, node: string, at: string } }

/**
 * Applies queued changes, oldest first, to a certificate's stored list. A connect attaches only
 * while the certificate exists (it may have been deleted since); a disconnect marks an entry that
 * is there. Returns `list` itself when nothing changed, so the caller can skip the write.
 */
export function applyClientChanges (list: AssociatedClient[], changes: readonly ClientChange[], certificateExists: boolean): AssociatedClient[] {
  let next = list
  for (const change of changes) {
    if ('client' in change) {
      if (certificateExists) next = withClientConnected(next, change.client)
    } else {
      const { clientId, node, at } = change.disconnected
      next = withClientDisconnected(next, clientId, node, at) ?? next
    }
  }
  return next
}
