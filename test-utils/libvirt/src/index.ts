// @ocne/test-libvirt: a private libvirt daemon with its state in a temporary folder, the tiny boot
// image that stands in for OCK (and its OCI layout), and what its guest prints on the serial console.
export type { LibvirtDaemon, StartLibvirtDaemonOptions } from './daemon.ts';
export { startLibvirtDaemon } from './daemon.ts';
export type { GuestReport } from './serial.ts';
export { parseGuestReport, waitForGuest } from './serial.ts';
export type { TinyBootImage, TinyImageRegistry, TinyOciLayout } from './tiny-image.ts';
export { pushTinyOciImage, tinyBootImage, tinyOciLayout } from './tiny-image.ts';
