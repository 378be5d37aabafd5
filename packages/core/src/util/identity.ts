import { hostname, userInfo } from 'node:os'

/** `user@host` of this process, for the `ktx.dev/owner` annotation. Never throws. */
export function localOwner(): string {
  let user = 'unknown'
  try {
    user = userInfo().username
  } catch {
    // No passwd entry (containers with a random uid): the host name alone still helps.
  }
  return `${user}@${hostname()}`
}
