/**
 * A loopback port nothing listens on: port 2, which no service of this machine serves (and which,
 * unlike port 1, `fetch` does not refuse outright). A port taken and released at once is not
 * safe: a server of a test running alongside may be given it again, and then the "unreachable"
 * address answers.
 */
export function closedPort(): number {
  return 2;
}
