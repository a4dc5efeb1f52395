/** Commander argument parsers the commands share: a bad value is a usage error (exit 2) saying the rule. */
import { InvalidArgumentError } from 'commander'

/** A parser for numbers that pass `check`, else a usage error saying `rule`. */
export function numberArgument (check: (n: number) => boolean, rule: string): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (value.trim() === '' || !check(n)) throw new InvalidArgumentError(rule)
    return n
  }
}

export const positiveInt = numberArgument((n) => Number.isInteger(n) && n > 0, 'must be a whole number above 0')
export const nonNegativeInt = numberArgument((n) => Number.isInteger(n) && n >= 0, 'must be a whole number, 0 or more')
export const positiveNumber = numberArgument((n) => Number.isFinite(n) && n > 0, 'must be a number above 0')
export const nonNegativeNumber = numberArgument((n) => Number.isFinite(n) && n >= 0, 'must be a number, 0 or more')

/** --limit of a listing: checked here, so a page size the API refuses is a usage error (exit 2), not an API error. */
export function pageSizeUpTo (max: number): (value: string) => number {
  return numberArgument((n) => Number.isInteger(n) && n > 0 && n <= max, `must be a whole number from 1 to ${max}`)
}

/** A repeatable option: every occurrence appended (`--status a --status b,c`). */
export function collect (value: string, previous: string[]): string[] {
  return [...previous, value]
}
