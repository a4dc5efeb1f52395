/** `node --import <this>` runs TypeScript in a child process, whatever its working directory. */
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'

export const REPO_ROOT = join(import.meta.dirname, '..', '..')
export const TSX_IMPORT = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href
export const MAIN_TS = join(REPO_ROOT, 'src', 'main.ts')
