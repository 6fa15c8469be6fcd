// Loading optional and CommonJS packages on first use: a package that is not installed becomes an
// OcneError naming it, and CommonJS exports are found whether Node or a bundler's chunk hands them over.
import { commonJsExports, importOptional, isOcneError } from '@ocne/core';
import { describe, expect, it } from 'vitest';

describe('importOptional', () => {
  it('a package that is not installed is OCNE_DEPENDENCY_MISSING naming it and the feature', async () => {
    const specifier = '@ocne/not-installed-anywhere';
    const error = await importOptional(
      specifier,
      () => import(/* @vite-ignore */ specifier),
      'Automatic token creation',
    ).catch((e: unknown) => e);
    expect(isOcneError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'OCNE_DEPENDENCY_MISSING',
      message:
        'Automatic token creation needs the package @ocne/not-installed-anywhere, which is not installed: add it to your dependencies (npm install @ocne/not-installed-anywhere)',
    });
  });

  it('an installed package is what the import gave', async () => {
    const yaml = await importOptional('yaml', () => import('yaml'), 'Reading YAML');
    expect(yaml.stringify({ a: 1 })).toBe('a: 1\n');
  });

  it('another failure of a package that is installed is not mistaken for a missing package', async () => {
    const broken = Object.assign(new Error("Cannot find package 'left-pad' imported from x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(importOptional('@ocne/kubernetes', () => Promise.reject(broken), 'Moving')).rejects.toBe(
      broken,
    );
  });
});

describe('commonJsExports', () => {
  const named = { stringify: (v: unknown) => String(v) };

  it('named exports, as Node gives them', () => {
    expect(commonJsExports(named, 'stringify')).toBe(named);
  });

  it('only a default export holding them, as a bundler chunk gives them', () => {
    const chunk = { default: named } as unknown as typeof named;
    expect(commonJsExports(chunk, 'stringify')).toBe(named);
  });

  it('neither: a TypeError naming the export', () => {
    expect(() => commonJsExports({ default: {} } as unknown as typeof named, 'stringify')).toThrow(
      'the loaded module has no export stringify',
    );
  });
});
