/**
 * The file-system primitives the cluster cache uses live in `@ocne/config`, where every package
 * that writes state can reach them; re-exported here for this package's users.
 */
export type { AcquirePidLockOptions, PidLock, WriteFileAtomicOptions } from '@ocne/config';
export { acquirePidLock, writeFileAtomic } from '@ocne/config';
