import type { Interfaces } from '@oclif/core'

type Parsed<F> = Omit<Interfaces.InferredFlags<F>, 'json'>
type MaybeUnset<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T]

/**
 * The values oclif's parse returns for the flag table `F`, derived from the table (no hand-kept
 * copy). Flags that may be unset may also be absent, so a caller (a test) writes only what it sets.
 */
export type FlagValues<F> = AbsentWhenUnset<Parsed<F>>

type AbsentWhenUnset<P> = { readonly [K in keyof P as K extends MaybeUnset<P> ? never : K]: P[K] } & {
  readonly [K in keyof P as K extends MaybeUnset<P> ? K : never]?: P[K]
}

/**
 * For each flag of `V`, the keys of core's options `O` it may be stored under: those whose type
 * takes the flag's value. `satisfies Renames<…>` ties a flag table to core's option type.
 */
export type Renames<V, O> = {
  readonly [K in keyof V]?: { [P in keyof O]-?: Exclude<V[K], undefined> extends O[P] ? P : never }[keyof O]
}

/**
 * The set flags among `names`, under core's option names. Unset flags stay absent (with
 * `exactOptionalPropertyTypes` an explicit undefined is not "absent"), so core's defaults apply.
 */
export function renamed<V extends object, const N extends { readonly [K in keyof V]?: PropertyKey }>(
  values: V,
  names: N,
): { [K in keyof N as N[K] & PropertyKey]?: Exclude<V[K & keyof V], undefined> } {
  const options: Partial<Record<PropertyKey, unknown>> = {}
  for (const [flag, option] of Object.entries(names) as [keyof V & string, PropertyKey][]) {
    if (values[flag] !== undefined) options[option] = values[flag]
  }
  return options as { [K in keyof N as N[K] & PropertyKey]?: Exclude<V[K & keyof V], undefined> }
}
