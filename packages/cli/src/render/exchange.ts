import type { ExchangeSession } from '@ktx/core'

/** The summary printed once an exchange is ready. */
export function renderExchangeReady(
  session: Pick<
    ExchangeSession,
    'namespace' | 'service' | 'mode' | 'pod' | 'workload' | 'expose' | 'unexposed'
  >,
): string[] {
  const how =
    session.mode === 'scale'
      ? `scale mode: ${session.workload ?? 'the workload'} scaled to 0`
      : 'selector mode'
  return [
    `Exchanged: Service ${session.namespace}/${session.service} now sends its callers here (${how}; shadow pod ${session.pod})`,
    ...session.expose.map((m) => `  pod port ${m.remote} → localhost:${m.local}`),
    ...session.unexposed.map((t) => `  not exposed, callers are refused: ${t}`),
    '',
    'Press Ctrl+C to give the Service back.',
  ]
}
