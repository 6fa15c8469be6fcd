import { defineConfig, type ViteUserConfig } from 'vitest/config';

const conditions = ['@ocne/source', 'module', 'node', 'import', 'default'];

const config: ViteUserConfig = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/bench/**/*.bench.ts'],
    benchmark: { include: ['packages/*/bench/**/*.bench.ts'] },
  },
});

export default config;
