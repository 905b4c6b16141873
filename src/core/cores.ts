/**
 * The cores a training process may use for itself. Whatever starts several runs side by
 * side (the engine's job queue, `seqlab compare`) gives each process its share in an
 * environment variable; a process started alone has every core.
 */
import * as os from 'node:os';

export const CORES_VARIABLE = 'SEQLAB_CORES';

export function coresForThisProcess(): number {
  const share = Number(process.env[CORES_VARIABLE]);
  return Number.isInteger(share) && share >= 1 ? share : os.availableParallelism();
}
