import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { X509Certificate } from 'node:crypto'
import { findIssuerChain, isIssuedBy, MAX_INTERMEDIATES, TrustIndex } from '../../../src/pki/chain.js'
import { OpenSslPki, type OpenSslCa, type OpenSslCert } from '../../helpers/openssl.js'

let pki: OpenSslPki
let root: OpenSslCa
let inter: OpenSslCa
let viaInter: OpenSslCert
let direct: OpenSslCert
let otherRoot: OpenSslCa
let foreign: OpenSslCert
let rootTwin: OpenSslCa
let underTwin: OpenSslCert
let rootRenewed: OpenSslCa

const x = (cert: { pem: string }): X509Certificate => new X509Certificate(cert.pem)

beforeAll(async () => {
  pki = await OpenSslPki.create()
  root = await pki.ca('root', { cn: 'Fleet Root' })
  inter = await pki.intermediate('inter', root, { cn: 'Fleet Issuing' })
  viaInter = await pki.leaf('via-inter', inter, { cn: 'dev-1' })
  direct = await pki.leaf('direct', root, { cn: 'dev-2' })
  otherRoot = await pki.ca('other-root', { cn: 'Someone Else' })
  foreign = await pki.leaf('foreign', otherRoot, { cn: 'dev-3' })
  // same subject as root, different key: only the signature tells them apart
  rootTwin = await pki.ca('root-twin', { cn: 'Fleet Root' })
  underTwin = await pki.leaf('under-twin', rootTwin, { cn: 'dev-4' })
  // same subject and same key as root: both verify whatever either signed
  rootRenewed = await pki.renewedRoot('root-renewed', root, { cn: 'Fleet Root', days: 7300 })
}, 60_000)
afterAll(async () => { await pki.cleanup() })

describe('isIssuedBy', () => {
  it('is true for a certificate and the CA that signed it', () => {
    expect(isIssuedBy(x(direct), x(root))).toBe(true)
    expect(isIssuedBy(x(viaInter), x(inter))).toBe(true)
    expect(isIssuedBy(x(inter), x(root))).toBe(true)
  })
  it('is false for another CA, even one with the same subject name', () => {
    expect(isIssuedBy(x(viaInter), x(root))).toBe(false)
    expect(isIssuedBy(x(foreign), x(root))).toBe(false)
    expect(isIssuedBy(x(direct), x(rootTwin))).toBe(false)
  })
})

describe('findIssuerChain', () => {
  const trusted = (): Map<string, X509Certificate> => new Map([['ca-root', x(root)], ['ca-twin', x(rootTwin)]])

  it('finds the trusted CA that signed the leaf directly', () => {
    expect(findIssuerChain(x(direct), [], trusted())).toEqual({ caId: 'ca-root', intermediates: [] })
  })

  it('finds the root through an intermediate the client presented', () => {
    const chain = findIssuerChain(x(viaInter), [x(inter)], trusted())
    expect(chain?.caId).toBe('ca-root')
    expect(chain?.intermediates.map((c) => c.fingerprint256)).toEqual([x(inter).fingerprint256])
  })

  it('copes with the leaf and the root themselves in the presented list (getPeerCertificate(true) order)', () => {
    const chain = findIssuerChain(x(viaInter), [x(viaInter), x(inter), x(root)], trusted())
    expect(chain?.caId).toBe('ca-root')
    expect(chain?.intermediates).toHaveLength(1)
  })

  it('tells two CAs with the same subject apart by signature', () => {
    expect(findIssuerChain(x(underTwin), [], trusted())?.caId).toBe('ca-twin')
    expect(findIssuerChain(x(direct), [], trusted())?.caId).toBe('ca-root')
  })

  it('prefers the preferred (active) one of two CAs that both verify, in either order of registration', () => {
    for (const order of [['ca-root', 'ca-renewed'], ['ca-renewed', 'ca-root']]) {
      const certs: Record<string, X509Certificate> = { 'ca-root': x(root), 'ca-renewed': x(rootRenewed) }
      const map = new Map(order.map((id) => [id, certs[id]!]))
      expect(findIssuerChain(x(direct), [], new TrustIndex(map, (id) => id === 'ca-renewed'))?.caId).toBe('ca-renewed')
      expect(findIssuerChain(x(direct), [], new TrustIndex(map, (id) => id === 'ca-root'))?.caId).toBe('ca-root')
      // both preferred (both active during the overlap), or neither: the one valid longest
      expect(findIssuerChain(x(direct), [], new TrustIndex(map))?.caId).toBe('ca-renewed')
      expect(findIssuerChain(x(direct), [], new TrustIndex(map, () => false))?.caId).toBe('ca-renewed')
    }
  })

  it('stops at a registered intermediate without walking to the root', () => {
    const map = new Map([['ca-inter', x(inter)], ['ca-root', x(root)]])
    expect(findIssuerChain(x(viaInter), [x(inter)], map)).toEqual({ caId: 'ca-inter', intermediates: [] })
  })

  it('returns undefined for a certificate of an unknown CA', () => {
    expect(findIssuerChain(x(foreign), [], trusted())).toBeUndefined()
    expect(findIssuerChain(x(foreign), [x(otherRoot)], trusted())).toBeUndefined()
  })

  it('returns undefined when the intermediate is not presented', () => {
    expect(findIssuerChain(x(viaInter), [], trusted())).toBeUndefined()
  })

  it('refuses an "intermediate" that is not a CA (CA:FALSE, even with keyCertSign)', async () => {
    const fake = await pki.leaf('fake-inter', root, { cn: 'Fake Issuing', keyUsage: 'keyCertSign', eku: 'none' })
    const fakeCa: OpenSslCa = { ...fake, intermediatePems: [fake.pem] }
    const underFake = await pki.leaf('under-fake', fakeCa, { cn: 'dev-5' })
    expect(isIssuedBy(x(underFake), x(fake))).toBe(true)
    expect(findIssuerChain(x(underFake), [x(fake)], trusted())).toBeUndefined()
  })

  it(`walks at most ${MAX_INTERMEDIATES} intermediates`, async () => {
    const cas: OpenSslCa[] = []
    let parent = root
    for (let i = 1; i <= MAX_INTERMEDIATES + 1; i++) {
      parent = await pki.intermediate(`deep-${i}`, parent, { cn: `Deep ${i}` })
      cas.push(parent)
    }
    const presented = cas.map(x).reverse()
    const atLimit = await pki.leaf('deep-leaf-ok', cas[MAX_INTERMEDIATES - 1] as OpenSslCa, { cn: 'deep-ok' })
    const tooDeep = await pki.leaf('deep-leaf-too-deep', cas[MAX_INTERMEDIATES] as OpenSslCa, { cn: 'deep-too' })
    expect(findIssuerChain(x(atLimit), presented, trusted())?.intermediates).toHaveLength(MAX_INTERMEDIATES)
    expect(findIssuerChain(x(tooDeep), presented, trusted())).toBeUndefined()
  })

  it('accepts a prebuilt TrustIndex', () => {
    const index = new TrustIndex(trusted())
    expect(index.issuerOf(x(direct))).toBe('ca-root')
    expect(findIssuerChain(x(viaInter), [x(inter)], index)?.caId).toBe('ca-root')
  })

  it('does not reuse an index built before the map grew', () => {
    const map = new Map([['ca-other', x(otherRoot)]])
    expect(findIssuerChain(x(direct), [], map)).toBeUndefined()
    map.set('ca-root', x(root))
    expect(findIssuerChain(x(direct), [], map)?.caId).toBe('ca-root')
  })
})
