/**
 * What a scale-mode session does when its workload changes under it. Two answers, by whether ktx
 * still holds the workload:
 * - its lock is still there but `spec.replicas` is no longer 0 (`kubectl scale`, an autoscaler's
 *   write to the scale subresource, a `kubectl apply` of a manifest with `replicas:`): the owner's
 *   pods would serve beside the shadow, so ktx scales to 0 again, warns, and puts the owner's newer
 *   count back when the session ends (the owner chose it last);
 * - the lock is gone or another session's, or the workload was deleted or replaced (a new uid): the
 *   session can no longer promise where the Service's traffic goes, so it ends with an error and
 *   its teardown restores what is still its to restore.
 * A `kubectl rollout restart` only changes the pod template: at 0 replicas its new ReplicaSet has no
 * pods, so it needs no answer (and if the replicas come back with it, the first rule applies).
 */
import { readLock } from '../../kube/redirect-state.js'
import { type Workload, describeWorkload } from '../../kube/workload.js'

/** The workload the session scaled to 0, as it left it. */
export interface ScaledWorkload {
  readonly workload: Workload
  readonly session: string
}

/** What to do about the workload as last seen. */
export type Drift =
  | { readonly action: 'none' }
  | { readonly action: 'rescale'; readonly found: number }
  | { readonly action: 'end'; readonly message: string }

/** Judges the workload as watched (`undefined`: it is not there). */
export function judgeDrift(scaled: ScaledWorkload, seen: Workload | undefined): Drift {
  const what = describeWorkload(scaled.workload.ref)
  if (seen === undefined || seen.deleting) {
    return { action: 'end', message: `${what} was deleted while this session ran; this exchange has ended` }
  }
  if (seen.uid !== scaled.workload.uid) {
    return {
      action: 'end',
      message: `${what} was deleted and created again while this session ran; this exchange has ended`,
    }
  }
  const lock = readLock(seen.annotations)
  if (lock.state !== 'valid') {
    return {
      action: 'end',
      message: `${what} lost this session's ktx.dev/lock annotation (removed by hand, a replace, or ktx recover --force); this exchange has ended`,
    }
  }
  if (lock.value.session !== scaled.session) {
    return {
      action: 'end',
      message: `${what} was taken over by ${lock.value.owner} (session ${lock.value.session}); this exchange has ended`,
    }
  }
  if (seen.replicas !== 0) return { action: 'rescale', found: seen.replicas }
  return { action: 'none' }
}
