/** Collects pino's JSON lines for assertions. */
import { Writable } from 'node:stream'

export interface LogLine {
  level: number
  event?: string
  reason?: string
  msg?: string
  [key: string]: unknown
}

export class LogSink extends Writable {
  readonly raw: string[] = []
  private partial = ''

  override _write (chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const text = this.partial + chunk.toString('utf8')
    const lines = text.split('\n')
    this.partial = lines.pop() ?? ''
    for (const line of lines) if (line.trim() !== '') this.raw.push(line)
    done()
  }

  lines (): LogLine[] {
    return this.raw.map((line) => JSON.parse(line) as LogLine)
  }

  events (event: string): LogLine[] {
    return this.lines().filter((line) => line.event === event)
  }
}
