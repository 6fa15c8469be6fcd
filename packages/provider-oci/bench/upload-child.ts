// The uploading side of upload.bench.ts, in a process of its own so that its peak RSS is the
// uploader's alone: runs the uploads given as JSON in argv[2] in parallel and prints, as JSON,
// the wall time, the upload-step time of each, the results and the process's peak RSS.
import { type UploadOciImageOptions, uploadOciImage } from '@ocne/provider-oci';

interface Spec {
  readonly common: Partial<UploadOciImageOptions>;
  readonly uploads: readonly Pick<UploadOciImageOptions, 'file' | 'architecture' | 'compartment'>[];
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
// The SDK warns on the console about retried calls; the parent reads stdout only.
console.warn = () => {};
const started = performance.now();
const runs = await Promise.all(
  spec.uploads.map(async (upload) => {
    let stepStart = 0;
    let stepMs = 0;
    const result = await uploadOciImage({
      ...(spec.common as UploadOciImageOptions),
      ...upload,
      onEvent: (event) => {
        if (event.type !== 'step' || !event.step.startsWith('Uploading')) return;
        if (event.status === 'started') stepStart = performance.now();
        else stepMs = performance.now() - stepStart;
      },
    });
    return { uploadMs: stepMs, objectSize: result.objectSize, parts: result.parts };
  }),
);
process.stdout.write(
  JSON.stringify({
    wallMs: performance.now() - started,
    runs,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
