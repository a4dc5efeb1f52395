/**
 * One-time set-up of @peculiar/x509: it needs reflect-metadata loaded before its first import
 * and a WebCrypto provider. Every pki/ file that uses @peculiar/x509 imports this module first,
 * so the order holds however the program is entered.
 */
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'

// Node 20 has WebCrypto on globalThis; the library would otherwise look for a browser one.
x509.cryptoProvider.set(globalThis.crypto)

export { x509 }
