/** SeqLab's own version, recorded in every run folder. */
import { version } from '../../package.json';

export const SEQLAB_VERSION: string = version;
