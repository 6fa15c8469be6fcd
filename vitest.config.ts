import { defineConfig, type ViteUserConfig } from 'vitest/config';

// Sibling packages resolve to their TypeScript source through the `@ocne/source`
// export condition, so tests never need a build.
const conditions = ['@ocne/source', 'module', 'node', 'import', 'default'];

const config: ViteUserConfig = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@ocne/source'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'packages/*/test/integration/**'],
          environment: 'node',
        },
      },
    ],
  },
});

export default config;
