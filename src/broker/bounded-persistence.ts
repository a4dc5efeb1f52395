/**
 * aedes' in-memory persistence with a bound on what it queues for a client that is offline: a
 * persistent session (clean=false) keeps every QoS 1/2 message published to its subscriptions
 * while its device is away, and aedes has no limit, so one device that subscribed to `fleet/#`
 * and never came back would grow the broker's memory until it is killed. Beyond
 * `maxQueuedMessages` for one client, a new message is not queued for it (the newest is dropped,
 * as Mosquitto's max_queued_messages does); a connected client's in-flight messages are not bound
 * here. The count follows the queue: +1 per message queued, -1 per message cleared (acknowledged,
 * or dropped by a clean reconnect). `discardSession` ends an offline session outright (its
 * certificate was revoked or deleted: session-owners.ts).
 */
import type { AedesPacket } from 'aedes-packet'
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js'
import { clientsTableOf } from './aedes-clients.js'

type Client = Parameters<MemoryPersistence['outgoingClearMessageId']>[0]
type Sub = Parameters<MemoryPersistence['outgoingEnqueue']>[0]

export interface QueueBound {
  /** At most this many messages queued per offline client; 0 for no bound. */
  maxQueuedMessages: number
  /** A message was not queued for `clientId`; `first` when its queue has just become full. */
  dropped: (clientId: string, first: boolean) => void
}

/** What a discarded session held. */
export interface DiscardedSession {
  subscriptions: number
  queued: number
}

export class BoundedMemoryPersistence extends MemoryPersistence {
  private readonly queued = new Map<string, number>()
  /** Clients whose queue is full and whose drop was reported, until it has room again. */
  private readonly full = new Set<string>()

  /** Whether a client with this id is connected to the broker now; known once aedes has set this up. */
  isConnected: (clientId: string) => boolean = () => false

  constructor (private readonly bound: QueueBound) {
    super()
  }

  override async setup (broker: Parameters<MemoryPersistence['setup']>[0]): Promise<void> {
    await super.setup(broker)
    const clients = clientsTableOf(broker as object, 'bound offline queues with')
    this.isConnected = (clientId) => Object.hasOwn(clients, clientId)
  }

  /**
   * Ends the persistent session of an offline client: its subscriptions, the messages queued for
   * it and its unfinished QoS 2 exchanges. Resolves with how many subscriptions and queued
   * messages went. (Its will is not kept past its connection: aedes publishes or deletes it when
   * the connection closes.)
   */
  async discardSession (clientId: string): Promise<DiscardedSession> {
    // the in-memory persistence reads nothing of a client but its id
    const client = { id: clientId } as Client
    const subscriptions = (await this.subscriptionsByClient(client)).length
    await this.cleanSubscriptions(client)
    let discarded = 0
    for await (const packet of this.outgoingStream(client)) {
      // one queued message a call, matched by messageId (undefined for one never sent)
      if (await this.outgoingClearMessageId(client, packet as AedesPacket) !== undefined) discarded++
    }
    await this.cleanIncoming(client)
    return { subscriptions, queued: discarded }
  }

  override async outgoingEnqueue (sub: Sub, packet: AedesPacket): Promise<void> {
    if (this.admit(sub.clientId)) await super.outgoingEnqueue(sub, packet)
  }

  override async outgoingEnqueueCombi (subs: Sub[], packet: AedesPacket): Promise<void> {
    // the common case allocates nothing: every subscriber has room
    let kept: Sub[] | undefined
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i] as Sub
      if (this.admit(sub.clientId)) kept?.push(sub)
      else kept ??= subs.slice(0, i)
    }
    await super.outgoingEnqueueCombi(kept ?? subs, packet)
  }

  /**
   * Gives a queued message the messageId it is sent with. A message this bound refused can still be
   * sent live: aedes restores a returning device's subscriptions a turn of the event loop before it
   * registers the client in `clients`, and what is published in between was not queued (the device
   * counted as away, its queue full) yet reaches the restored subscription. aedes-persistence throws
   * 'no such packet' for it, which aedes answers by closing the device; it is sent as a clean
   * session's message is instead (its PUBACK clears nothing). Likewise a QoS 2 one's PUBREL.
   */
  override outgoingUpdate (client: Client, packet: Parameters<MemoryPersistence['outgoingUpdate']>[1]): Promise<void> {
    return super.outgoingUpdate(client, packet).catch(notQueued)
  }

  override async outgoingClearMessageId (client: Client, packet: AedesPacket): Promise<AedesPacket> {
    const cleared = await super.outgoingClearMessageId(client, packet)
    // undefined when nothing was queued under that id (a clean session's direct delivery)
    if (cleared !== undefined) this.release(client.id)
    return cleared
  }

  /** Counts a message into the client's queue, or refuses it when the queue is full and the client away. */
  private admit (clientId: string): boolean {
    const count = this.queued.get(clientId) ?? 0
    const { maxQueuedMessages } = this.bound
    if (maxQueuedMessages > 0 && count >= maxQueuedMessages && !this.isConnected(clientId)) {
      const first = !this.full.has(clientId)
      this.full.add(clientId)
      this.bound.dropped(clientId, first)
      return false
    }
    this.queued.set(clientId, count + 1)
    return true
  }

  private release (clientId: string): void {
    const count = (this.queued.get(clientId) ?? 1) - 1
    if (count <= 0) this.queued.delete(clientId)
    else this.queued.set(clientId, count)
    if (count < this.bound.maxQueuedMessages) this.full.delete(clientId)
  }
}

/** aedes-persistence's answer to an update of a message it does not hold (asyncPersistence.js). */
function notQueued (err: unknown): void {
  if (!(err instanceof Error) || err.message !== 'no such packet') throw err
}
