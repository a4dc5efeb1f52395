/**
 * Child process for the process-lock race test (test/integration/embedded-store.test.ts).
 *
 *   node --import tsx lock-racer.ts <base dir> <dirs> <slot ms>
 *
 * Talks with the test by lines. Prints `ready` once loaded, then waits for `go <start ms>` on
 * stdin: takes the lock of <base dir>/d<i> for i in 0..dirs-1, each at its own time slot shared
 * with the other racers (start + i × slot, by the wall clock), and prints one JSON line
 * `{ "won": [indexes], "missedFirstSlot": boolean }`. It then keeps every lock it won, alive,
 * until `exit` (or the end of stdin): a racer that exited would leave locks whose pid is gone,
 * which a late racer would rightly take over as stale.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { acquireProcessLock } from '../../src/store/embedded/process-lock.js'

const [base, dirsText, slotText] = process.argv.slice(2)
if (base === undefined || dirsText === undefined || slotText === undefined) {
  process.stderr.write('usage: lock-racer.ts <base dir> <dirs> <slot ms>\n')
  process.exit(2)
}
const dirs = Array.from({ length: Number(dirsText) }, (_, i) => join(base, `d${i}`))
for (const dir of dirs) mkdirSync(dir, { recursive: true })

function race (start: number): { won: number[], missedFirstSlot: boolean } {
  // a racer that arrives after the first slot did not race for it: the test must know
  const missedFirstSlot = Date.now() > start
  const won: number[] = []
  for (const [i, dir] of dirs.entries()) {
    const at = start + i * Number(slotText)
    while (Date.now() < at) { /* spin to the shared slot: the racers start within microseconds */ }
    try {
      acquireProcessLock(dir)
      won.push(i)
    } catch { /* another one holds it */ }
  }
  return { won, missedFirstSlot }
}

const input = createInterface({ input: process.stdin })
input.on('line', (line) => {
  const start = /^go (\d+)$/.exec(line)?.[1]
  if (start !== undefined) process.stdout.write(`${JSON.stringify(race(Number(start)))}\n`)
  else if (line === 'exit') process.exit(0)
})
input.on('close', () => { process.exit(0) })
process.stdout.write('ready\n')
