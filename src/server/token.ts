/** The control token: printed by `serve --allow-control`, sent by the page in a header, compared in constant time. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Header the page sends the token in (a custom header: a cross-site form cannot send it). */
export const TOKEN_HEADER = 'x-fracflow-token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Equal tokens? Digests of both are compared, so neither the length nor the first differing byte shows in the time taken. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (typeof given !== 'string' || given.length === 0) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
