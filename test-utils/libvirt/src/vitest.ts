// How the libvirt tests reach the daemon and the tiny boot image of ./global-setup.ts:
//
//   import { libvirtFromInject } from '@ocne/test-libvirt/vitest';
//   const { uri, pool, logDir, bootImage } = libvirtFromInject();
import { inject } from 'vitest';
import type { LibvirtDaemon } from './daemon.ts';

/** What a test gets of the daemon (without `stop`: the global setup stops it) and the boot image. */
export interface InjectedLibvirt extends Omit<LibvirtDaemon, 'stop'> {
  /** The tiny boot disk (qcow2) that stands in for OCK's `disk/boot.qcow2`. */
  bootImage: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Provided by test-utils/libvirt/src/global-setup.ts (the `libvirt` project). */
    libvirt: InjectedLibvirt;
  }
}

/** The daemon and image the `libvirt` project's global setup provides; throws outside that project. */
export function libvirtFromInject(): InjectedLibvirt {
  const provided: InjectedLibvirt | undefined = inject('libvirt');
  if (provided === undefined)
    throw new Error(
      "no libvirt daemon was provided: run this test in vitest's `libvirt` project, whose globalSetup is test-utils/libvirt/src/global-setup.ts",
    );
  return provided;
}
