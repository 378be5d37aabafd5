/**
 * The examples' view of "a service in the cluster calling": one HTTP GET from the busybox `client`
 * pod the project's test harness deploys (in your own suites, whatever service you test makes
 * this call). Not ktx code: the examples' ktx part is in the *.test.ts files.
 */
import { type ClusterEnv, type RunResult, run } from '../../test/harness/cluster.js'

/** `wget` from the `client` pod in `namespace`, with extra request headers; never throws. */
export function getFromClientPod(
  env: ClusterEnv,
  namespace: string,
  url: string,
  headers: readonly string[] = [],
): Promise<RunResult> {
  const headerArgs = headers.flatMap((header) => ['--header', header])
  return run(
    env.KUBECTL,
    [
      '--kubeconfig',
      env.KUBECONFIG_HOST,
      '-n',
      namespace,
      'exec',
      'client',
      '--',
      'timeout',
      '10',
      'wget',
      '-qO-',
      ...headerArgs,
      url,
    ],
    { timeoutMs: 30_000 },
  )
}
