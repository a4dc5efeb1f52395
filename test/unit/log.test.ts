/** The stdout log destination: lines are written soon after they arrive, and nothing is written while idle. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FlushLater, LOG_FLUSH_MS } from '../../src/log.js'

class Recorder {
  readonly lines: string[] = []
  flushes = 0
  write (line: string): void { this.lines.push(line) }
  flush (): void { this.flushes++ }
}

beforeEach(() => { vi.useFakeTimers() })
afterEach(() => { vi.useRealTimers() })

describe('FlushLater', () => {
  it('flushes once, LOG_FLUSH_MS after the first waiting line, and not again while no line arrives', () => {
    const out = new Recorder()
    const destination = new FlushLater(out)
    destination.write('a\n')
    destination.write('b\n')
    expect(out.lines).toEqual(['a\n', 'b\n'])
    vi.advanceTimersByTime(LOG_FLUSH_MS - 1)
    expect(out.flushes).toBe(0)
    vi.advanceTimersByTime(1)
    expect(out.flushes).toBe(1)
    vi.advanceTimersByTime(10 * LOG_FLUSH_MS)
    expect(out.flushes).toBe(1)
    destination.write('c\n')
    vi.advanceTimersByTime(LOG_FLUSH_MS)
    expect(out.flushes).toBe(2)
  })

  it('survives a stream that was closed at exit', () => {
    const destination = new FlushLater({ write: () => true, flush: () => { throw new Error('SonicBoom destroyed') } })
    destination.write('a\n')
    expect(() => { vi.advanceTimersByTime(LOG_FLUSH_MS) }).not.toThrow()
  })
})
