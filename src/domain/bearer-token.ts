/**
 * What a bearer token may contain (RFC 6750 §2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" /
 * "~" / "+" / "/" ) *"="): the admin API reads exactly this, and the config accepts no token it
 * could not read.
 */
const B64TOKEN = '[A-Za-z0-9\\-._~+/]+=*'

/** `Authorization: Bearer <token>`; the token is group 1. */
export const BEARER_HEADER = new RegExp(`^Bearer +(${B64TOKEN}) *$`, 'i')

const BEARER_TOKEN = new RegExp(`^${B64TOKEN}$`)

/** Whether `token` is one a bearer header can carry. */
export function isBearerToken (token: string): boolean {
  return BEARER_TOKEN.test(token)
}

/** Shortest token certmq takes from an operator without complaint (a generated one has 43+ characters). */
export const MIN_TOKEN_LENGTH = 16

/** The characters in words, for problem lines (which never print the token). */
export const TOKEN_CHARACTERS = 'A-Z a-z 0-9 - . _ ~ + / (and = at the end)'

/** The whole rule in words. */
export const TOKEN_RULE = `at least ${MIN_TOKEN_LENGTH} characters of ${TOKEN_CHARACTERS}`
