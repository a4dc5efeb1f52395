/**
 * The registered CAs as the CONNECT path needs them: by id, with Node X509Certificate objects
 * ready for signature checks. Rebuilt from the RegistryStore whenever a CA changes; read
 * synchronously on the hot path.
 */
import { X509Certificate } from 'node:crypto'
import type { CaRecord } from '../domain/ca.js'
import { findIssuerChain, TrustIndex } from '../pki/chain.js'
import type { RegistryStore } from '../store/ports.js'

export interface TrustedCa {
  record: CaRecord
  certificate: X509Certificate
}

export class TrustStore {
  private cas = new Map<string, TrustedCa>()
  private index = new TrustIndex(new Map())
  private readonly listeners = new Set<() => void>()
  private refreshing: Promise<void> | undefined
  private again = false

  constructor (private readonly store: RegistryStore) {}

  /** Reloads every CA from the store; concurrent calls coalesce into at most one more reload. */
  async refresh (): Promise<void> {
    if (this.refreshing !== undefined) {
      this.again = true
      return await this.refreshing
    }
    this.refreshing = (async () => {
      do {
        this.again = false
        const records = await this.store.listCas()
        const cas = new Map<string, TrustedCa>()
        for (const record of records) {
          const previous = this.cas.get(record.id)
          cas.set(record.id, { record, certificate: previous?.certificate ?? new X509Certificate(record.certificatePem) })
        }
        this.cas = cas
        this.index = new TrustIndex(new Map([...cas].map(([id, ca]) => [id, ca.certificate])))
      } while (this.again)
    })().finally(() => { this.refreshing = undefined })
    await this.refreshing
    for (const listener of this.listeners) listener()
  }

  /** Called after every refresh (the listener swaps the TLS context). */
  onChange (listener: () => void): void {
    this.listeners.add(listener)
  }

  get (id: string): TrustedCa | undefined {
    return this.cas.get(id)
  }

  /** PEMs of the active CAs: the TLS server's CertificateRequest hints. */
  activePems (): string[] {
    return [...this.cas.values()].filter((ca) => ca.record.status === 'active').map((ca) => ca.record.certificatePem)
  }

  /**
   * The registered CA (active or not) that `leaf` chains to, through the intermediates the
   * client presented; undefined when none.
   */
  findCa (leaf: X509Certificate, presented: X509Certificate[]): TrustedCa | undefined {
    const chain = findIssuerChain(leaf, presented, this.index)
    return chain === undefined ? undefined : this.cas.get(chain.caId)
  }
}
