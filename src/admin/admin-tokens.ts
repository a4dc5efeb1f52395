/**
 * The admin bearer token. Never a built-in default: taken from config/CERTMQ_ADMIN_TOKEN, or
 * generated on first start, shown once, and kept only as its SHA-256 hash. Compared in constant
 * time (hash both sides, then timingSafeEqual, so lengths never leak either).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { RegistryStore } from '../store/ports.js'

const META_KEY = 'admin.tokenHash'

export class AdminTokens {
  private constructor (
    private readonly hash: Buffer,
    /** The token generated on this start, to show once; undefined otherwise. */
    readonly generated: string | undefined
  ) {}

  static async load (store: RegistryStore, configured: string, now: () => Date): Promise<AdminTokens> {
    if (configured !== '') return new AdminTokens(sha256(configured), undefined)
    const stored = await store.getMeta(META_KEY)
    if (stored !== undefined) return new AdminTokens(Buffer.from(stored, 'hex'), undefined)
    const token = `cmq_${randomBytes(32).toString('base64url')}`
    await store.setMeta(META_KEY, sha256(token).toString('hex'))
    await store.setMeta(`${META_KEY}.createdAt`, now().toISOString())
    return new AdminTokens(sha256(token), token)
  }

  verifyToken (token: string): boolean {
    return timingSafeEqual(sha256(token), this.hash)
  }
}

function sha256 (text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
