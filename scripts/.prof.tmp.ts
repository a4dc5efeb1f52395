import { EmbeddedRegistryStore } from '../src/store/embedded/embedded-registry-store.js'
const store = new EmbeddedRegistryStore({ path: '/tmp/seed-100k/registry' })
await store.open()
const now = new Date().toISOString()
const qs: Array<[string, any]> = [
  ['cn', { commonName: 'SN00*' }], ['status', { status: ['active'] }], ['exp30', { expiringWithinDays: 30, now }],
  ['cn sort', { commonName: 'SN00*', sort: 'notAfter' }], ['all', { status: ['active'], commonName: 'SN00*', expiringWithinDays: 30, now, sort: 'notAfter' }],
  ['none', {}], ['exact cn', { commonName: 'SN050000' }]
]
for (const [label, q] of qs) {
  for (let i = 0; i < 5; i++) await store.listCertificates({ ...q, limit: 100 })
  const t = performance.now()
  let total = 0
  for (let i = 0; i < 20; i++) total = (await store.listCertificates({ ...q, limit: 100 })).total
  console.log(label, ((performance.now() - t) / 20).toFixed(2), 'ms', total)
}
await store.close()
