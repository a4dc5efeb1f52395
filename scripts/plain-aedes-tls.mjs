/**
 * Baseline for benchmarks: a plain Aedes 1.x broker behind the same TLS settings as certmq's
 * listener (client certificate requested, same server key and CA list: none unless certmq's
 * mqtts.advertiseCas is on, TCP_NODELAY; the bench starts node with certmq's bin/openssl.cnf) and no
 * certificate logic at all. Plain JavaScript on purpose: it runs without a loader, like certmq's
 * built output (dist/) that the benchmarks start. Prints `{"event":"listening","port":N}` on stdout.
 * Usage: node scripts/plain-aedes-tls.mjs <server.pem> <server.key> [ca.pem...]
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:tls'
import { Aedes } from 'aedes'

const [certFile, keyFile, ...caFiles] = process.argv.slice(2)
if (certFile === undefined || keyFile === undefined) {
  process.stderr.write('usage: plain-aedes-tls.mjs <server.pem> <server.key> [ca.pem...]\n')
  process.exit(2)
}
const broker = await Aedes.createBroker()
const server = createServer({
  cert: readFileSync(certFile),
  key: readFileSync(keyFile),
  // an empty list is an empty trust store (undefined would be Node's bundled roots)
  ca: caFiles.map((f) => readFileSync(f)),
  requestCert: true,
  rejectUnauthorized: false,
  minVersion: 'TLSv1.2',
  noDelay: true
}, (socket) => { broker.handle(socket) })
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(JSON.stringify({ event: 'listening', port: typeof address === 'object' && address !== null ? address.port : 0 }) + '\n')
})
process.on('SIGTERM', () => { broker.close(() => { server.close(() => { process.exit(0) }) }) })
