/** The samples of a Prometheus text exposition, keyed by name with labels (`name{label="v"}`), as a scraper reads them. */
export function parseExposition (text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

/** GET `${adminUrl}/metrics` (no token) and its samples; a scrape that is not a 200 throws, naming the status. */
export async function scrapeMetrics (adminUrl: string): Promise<Map<string, number>> {
  const response = await fetch(`${adminUrl}/metrics`)
  const text = await response.text()
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}: ${text}`)
  return parseExposition(text)
}
