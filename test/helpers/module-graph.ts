/** The modules a TypeScript entry file loads through static imports, followed through src/. */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export function staticGraph (entry: string): { files: Set<string>, packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string): void => {
    if (files.has(file)) return
    files.add(file)
    const source = readFileSync(file, 'utf8')
    // `import … from 'x'` and `export … from 'x'`, not `import type` (erased) nor import('x') (lazy)
    for (const match of source.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s)?['"]([^'"]+)['"]/gm)) {
      const spec = match[1]!
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')))
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
    }
  }
  visit(entry)
  return { files, packages }
}
