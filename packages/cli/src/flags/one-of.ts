import { Flags } from '@oclif/core'

/**
 * An enum flag over one of core's unions `T` (`oneOf<DnsMode>(…)`): listing a value core does not
 * know is a type error, and the parsed value is typed `T`, so it becomes an option without a cast.
 */
export function oneOf<T extends string>(
  values: readonly T[],
  options: { readonly description: string; readonly default: NoInfer<T> },
) {
  return Flags.option({ options: values, ...options })()
}
