/**
 * The admin bearer tokens. The built-in one (named `admin`, role admin) is never a built-in
 * default: it is taken from config/CERTMQ_ADMIN_TOKEN, or generated on first start, shown once,
 * and kept only as its SHA-256 hash. Named tokens come from admin.tokens, already as hashes
 * (config/admin-tokens.ts reads tokenEnv). Compared in constant time: the presented token is
 * hashed once, then compared with timingSafeEqual against every known hash with no early exit,
 * so neither the length nor which token matched leaks through timing.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { RegistryStore } from '../store/ports.js'
import { BUILTIN_TOKEN_NAME } from '../config/admin-tokens.js'
import type { Config } from '../config/schema.js'
import type { Principal } from './principal.js'

const META_KEY = 'admin.tokenHash'

type NamedTokenConfig = Config['admin']['tokens'][number]

interface KnownToken {
  readonly hash: Buffer
  readonly principal: Principal
}

/** The known tokens as hashes and principals, to hand to the admin thread (never a token). */
export type SharedTokens = ReadonlyArray<{ readonly sha256: string, readonly principal: Principal }>

export class AdminTokens {
  private constructor (
    private readonly known: readonly KnownToken[],
    /** The token generated on this start, to show once; undefined otherwise. */
    readonly generated: string | undefined,
    /** What commit() writes: the generated token's hash, or the removal of a stored one a configured token retires. */
    private pending?: { store: RegistryStore, now: () => Date, storeHash?: Buffer }
  ) {}

  /**
   * The tokens of this start. Nothing is written yet; commit() does that once the start has
   * succeeded, so a start that fails later (a port in use) keeps no hash of a token nobody was
   * shown, and the next start generates and shows one again.
   *
   * A configured token (admin.token, CERTMQ_ADMIN_TOKEN) is the admin token while it is set and
   * is never stored; it retires a stored generated token, so starting with it once makes a lost
   * or leaked generated token useless, and a later start without it generates a new one.
   * Unless it is that generated token: the banner and README say to export it as
   * CERTMQ_ADMIN_TOKEN for the CLI, and the broker reads the same variable, so a restart from that
   * shell is no replacement and keeps the stored hash.
   */
  static async load (store: RegistryStore, configured: string, now: () => Date, named: readonly NamedTokenConfig[] = []):
    Promise<AdminTokens> {
    const others = named.flatMap((t): KnownToken[] => t.tokenSha256 === undefined
      ? [] // config/admin-tokens.ts fills tokenSha256 from tokenEnv; an entry without one was refused there
      : [{ hash: Buffer.from(t.tokenSha256, 'hex'), principal: Object.freeze({ name: t.name, role: t.role }) }])
    const builtin = (hash: Buffer): KnownToken => ({ hash, principal: Object.freeze({ name: BUILTIN_TOKEN_NAME, role: 'admin' }) })
    const stored = await store.getMeta(META_KEY)
    if (configured !== '') {
      const hash = sha256(configured)
      const retires = stored !== undefined && !sameHash(hash, Buffer.from(stored, 'hex'))
      return new AdminTokens([builtin(hash), ...others], undefined, retires ? { store, now } : undefined)
    }
    if (stored !== undefined) return new AdminTokens([builtin(Buffer.from(stored, 'hex')), ...others], undefined)
    const token = `cmq_${randomBytes(32).toString('base64url')}`
    const hash = sha256(token)
    return new AdminTokens([builtin(hash), ...others], token, { store, now, storeHash: hash })
  }

  /**
   * Writes what load() left pending: the generated token's hash (`generated`), or the removal
   * of the stored token a configured one retired (`retired`); undefined when there was nothing.
   * Call once the start has succeeded, before showing a generated token.
   */
  async commit (): Promise<'generated' | 'retired' | undefined> {
    const pending = this.pending
    if (pending === undefined) return undefined
    this.pending = undefined
    if (pending.storeHash === undefined) {
      await pending.store.deleteMeta([META_KEY, `${META_KEY}.createdAt`])
      return 'retired'
    }
    // the hash last: a failure before it leaves no token stored, and the next start shows a new one
    await pending.store.setMeta(`${META_KEY}.createdAt`, pending.now().toISOString())
    await pending.store.setMeta(META_KEY, pending.storeHash.toString('hex'))
    return 'generated'
  }

  /** The same tokens, rebuilt in another thread from share(). */
  static fromShared (shared: SharedTokens): AdminTokens {
    return new AdminTokens(shared.map(({ sha256, principal }) => ({ hash: Buffer.from(sha256, 'hex'), principal: Object.freeze({ ...principal }) })), undefined)
  }

  share (): SharedTokens {
    return this.known.map(({ hash, principal }) => ({ sha256: hash.toString('hex'), principal }))
  }

  /** The name and role of the token, or undefined when it is not a known token. */
  authenticate (token: string): Principal | undefined {
    const presented = sha256(token)
    let found: Principal | undefined
    for (const { hash, principal } of this.known) {
      // every hash is compared, matched or not
      if (timingSafeEqual(presented, hash) && found === undefined) found = principal
    }
    return found
  }
}

/** Constant time, like authenticate(): the stored hash is as secret as the tokens it is compared with. */
function sameHash (a: Buffer, b: Buffer): boolean {
  // a length is no secret (a SHA-256 is 32 bytes); a damaged stored value is simply another token
  return a.length === b.length && timingSafeEqual(a, b)
}

function sha256 (text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
