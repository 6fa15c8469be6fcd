// vitest globalSetup of the `libvirt` project: builds (or finds cached) the tiny boot image, starts
// a private virtlogd + libvirtd (./daemon.ts), provides both as `inject('libvirt')` (./vitest.ts),
// and in teardown destroys every domain and stops the daemons by PID. vitest only runs it when the
// project has test files to run.
import type { TestProject } from 'vitest/node';
import { startLibvirtDaemon } from './daemon.ts';
import { tinyBootImage } from './tiny-image.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const image = await tinyBootImage();
  const daemon = await startLibvirtDaemon();
  const { stop, ...rest } = daemon;
  project.provide('libvirt', { ...rest, bootImage: image.path });
  return stop;
}
