#!/usr/bin/env node
/**
 * The `ocne` bin. It handles signals and turns on Node's compile cache before anything else loads
 * (the rest of the CLI is imported dynamically, after them), then runs {@link main} for the process.
 */
import { existsSync } from 'node:fs';
import { enableCompileCache, registerHooks } from 'node:module';
import { dirname, join } from 'node:path';
import { compileCacheDirectory } from './compile-cache.js';

// SIGINT (Ctrl-C) and SIGTERM (kill, a service manager, a container stop) cancel the running
// operation: it cleans up (no lock, no half-made cluster left in the home) and the process exits
// with 128 + the signal's number, as a process the signal ended would. A second signal exits at once.
const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;
const controller = new AbortController();
let received: keyof typeof SIGNALS | undefined;
for (const name of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) {
  process.on(name, () => {
    if (received !== undefined) process.exit(128 + SIGNALS[name]);
    received = name;
    controller.abort(name === 'SIGINT' ? 'interrupted' : 'terminated');
  });
}

// NODE_DISABLE_COMPILE_CACHE=1 turns it off, as for any Node program; a cache that cannot be
// written (a read-only home) only costs the compilation. Run from the TypeScript sources (the
// tests, each with a home of its own) it would be written on every run and read on none.
const cacheDirectory = compileCacheDirectory(process.env);
/** `node:v8` when the bin compiles its own chunks eagerly (see below), else `undefined`. */
let eagerV8: typeof import('node:v8') | undefined;
if (cacheDirectory !== undefined && !import.meta.url.endsWith('.ts')) {
  // V8 compiles a function when it is first called, so the code Node caches for a module holds its
  // top level only, and every function a command calls was compiled again on every run (about
  // 6 ms of a cold `cluster join`). From the second run on (the cache folder is there), V8 compiles
  // every function of a module with the module (`--no-lazy`, set before anything of the CLI is
  // compiled, the same way in every run), so the cache holds them all: loading `node:v8` to say so
  // costs 2 ms. A first run (a fresh home, as most tests have) compiles lazily, as Node does:
  // compiling everything only pays when a cache keeps it. The large third-party chunks (the
  // Kubernetes and Oracle Cloud clients) stay lazy: see the load hook below.
  if (process.env.NODE_DISABLE_COMPILE_CACHE === undefined && existsSync(cacheDirectory)) {
    try {
      eagerV8 = process.getBuiltinModule('node:v8');
      eagerV8.setFlagsFromString('--no-lazy');
    } catch {
      eagerV8 = undefined; // compiled lazily, as always
    }
  }
  try {
    enableCompileCache(cacheDirectory);
  } catch {
    // the run goes on without it
  }
}
// In the bundle every chunk imports its siblings as "./ocne-<name>-<hash>.js": those are resolved
// here, beside this file, without the default resolver's file-system lookups (a few milliseconds
// over the dozen chunks of a command). Anything else resolves as usual.
//
// With eager compilation, the load hook decides it chunk by chunk: a chunk of the CLI's own code
// (the largest is under 150 KB) is compiled eagerly, one over EAGER_MAX_BYTES (the Kubernetes client's is
// 4.4 MB) lazily, as Node would: importing that one eagerly took 145 ms against 90 ms lazily,
// for a cache four times the size. Node compiles a module right after its load hook returns;
// the flag goes back to lazy once that synchronous step is over (a microtask), so that the
// functions V8 compiles later, when they are first called, are compiled lazily too. The flag of
// each chunk depends only on its size, so its cache entry is accepted on every run.
const EAGER_MAX_BYTES = 256 * 1024;
if (!import.meta.url.endsWith('.ts') && typeof registerHooks === 'function') {
  const here = new URL('./', import.meta.url).href;
  const v8 = eagerV8;
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier.startsWith('./ocne-') && context.parentURL?.startsWith(here)) {
        return { url: here + specifier.slice(2), format: 'module', shortCircuit: true };
      }
      return next(specifier, context);
    },
    ...(v8 !== undefined && {
      load(url, context, next) {
        const loaded = next(url, context);
        if (url.startsWith(here)) {
          const { source } = loaded;
          const size = typeof source === 'string' ? source.length : (source?.byteLength ?? 0);
          v8.setFlagsFromString(size > EAGER_MAX_BYTES ? '--lazy' : '--no-lazy');
          queueMicrotask(() => v8.setFlagsFromString('--lazy'));
        }
        return loaded;
      },
    }),
  });
}
const { main, useParseMemo } = await import('./main.js');
// The parse memo (see `@ocne/core`): a command skips the YAML parser for the files it read in an
// earlier run (the configuration, the cluster cache, a kubeconfig's CA). Only for the bundle, whose
// build writes its identity here, so no other code's results are read; OCNE_DISABLE_PARSE_MEMO=1
// turns it off.
const BUILD_ID: string = 'ocne-build-id-placeholder-0000000000000000';
if (
  cacheDirectory !== undefined &&
  !BUILD_ID.startsWith('ocne-build-id-placeholder') &&
  process.env.OCNE_DISABLE_PARSE_MEMO !== '1'
) {
  useParseMemo({ directory: join(dirname(cacheDirectory), 'parse-memo'), codeId: BUILD_ID });
}

const code = await main({ argv: process.argv.slice(2), signal: controller.signal });
// A command that finished before it saw the signal keeps its own exit code.
process.exitCode = received !== undefined && code !== 0 ? 128 + SIGNALS[received] : code;
