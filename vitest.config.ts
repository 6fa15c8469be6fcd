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
          include: [
            'packages/*/test/**/*.test.ts',
            'test-utils/*/test/**/*.test.ts',
            'examples/test/**/*.test.ts',
          ],
          // The tests of test-utils/control-plane, registry and libvirt start real daemons: integration tests.
          exclude: [
            '**/node_modules/**',
            'packages/*/test/integration/**',
            'packages/*/test/libvirt/**',
            'test-utils/control-plane/**',
            'test-utils/registry/**',
            'test-utils/libvirt/**',
          ],
          environment: 'node',
        },
      },
      {
        // Tests against real etcd + kube-apiserver (scripts/test-tools.sh builds them). The global
        // setup starts two control planes, `source` and `destination`, once for the whole project
        // (only when this project has files to run) and provides them as `inject('controlPlanes')`.
        extends: true,
        test: {
          name: 'integration',
          include: [
            'packages/*/test/integration/**/*.test.ts',
            'test-utils/control-plane/test/**/*.test.ts',
            'test-utils/registry/test/**/*.test.ts',
          ],
          globalSetup: ['test-utils/control-plane/src/global-setup.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // The control planes are shared: one test file at a time.
          fileParallelism: false,
        },
      },
      {
        // Tests on a real libvirtd with QEMU software emulation (no KVM): the global setup starts a
        // private libvirtd + virtlogd (state in a temporary folder, stopped by PID) and builds the
        // tiny boot image once (test-utils/libvirt). The guests run no Kubernetes: the provider's
        // Kubernetes side is tested in the `integration` project, against its control planes.
        extends: true,
        test: {
          name: 'libvirt',
          include: ['packages/*/test/libvirt/**/*.test.ts', 'test-utils/libvirt/test/**/*.test.ts'],
          globalSetup: ['test-utils/libvirt/src/global-setup.ts'],
          environment: 'node',
          testTimeout: 240_000,
          hookTimeout: 240_000,
          // One daemon, and two cores: one file at a time.
          fileParallelism: false,
        },
      },
      {
        // What a consumer gets from npm: the global setup packs every package through a dry run of
        // the release (so the build must be current: `pnpm build`); the tests check the tarballs and
        // install them into temporary projects outside the workspace (npm, from the registry).
        extends: true,
        test: {
          name: 'packaging',
          include: ['packaging/**/*.test.ts'],
          globalSetup: ['packaging/release-setup.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

export default config;
