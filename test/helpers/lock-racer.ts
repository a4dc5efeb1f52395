/**
 * Child process for the process-lock race test (test/integration/embedded-store.test.ts).
 *
 *   node --import tsx lock-racer.ts <base dir> <start ms> <dirs> <slot ms>
 *
 * Takes the lock of <base dir>/d<i> for i in 0..dirs-1, each at its own time slot shared with the
 * other racer (start + i × slot, by the wall clock), and keeps every lock it won. Prints the
 * indexes won as one JSON array.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { acquireProcessLock } from '../../src/store/embedded/process-lock.js'

const [base, startText, dirsText, slotText] = process.argv.slice(2)
if (base === undefined || startText === undefined || dirsText === undefined || slotText === undefined) {
  process.stderr.write('usage: lock-racer.ts <base dir> <start ms> <dirs> <slot ms>\n')
  process.exit(2)
}
const won: number[] = []
for (let i = 0; i < Number(dirsText); i++) {
  const dir = join(base, `d${i}`)
  mkdirSync(dir, { recursive: true })
  const at = Number(startText) + i * Number(slotText)
  while (Date.now() < at) { /* spin to the shared slot: both racers start within microseconds */ }
  try {
    acquireProcessLock(dir)
    won.push(i)
  } catch { /* the other one holds it */ }
}
process.stdout.write(`${JSON.stringify(won)}\n`)
