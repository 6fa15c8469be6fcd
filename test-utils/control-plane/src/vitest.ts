// How integration tests reach the control planes started by ./global-setup.ts:
//
//   import { controlPlanesFromInject } from '@ocne/test-control-plane/vitest';
//   const { source, destination } = controlPlanesFromInject();
//
// or `inject('controlPlanes')` from 'vitest', typed by the ProvidedContext augmentation below
// (visible to a test file once it imports anything from this module).
import { inject } from 'vitest';
import type { ControlPlane } from './control-plane.ts';
import type { TestNode } from './node.ts';

/**
 * What a test gets of a control plane started by the global setup: its data, without `stop`
 * (it crosses processes; the global setup stops the control planes).
 */
export type InjectedControlPlane = Omit<ControlPlane, 'stop' | typeof Symbol.asyncDispose>;

/** The two control planes of the `integration` vitest project, e.g. for a `move` between clusters. */
export interface InjectedControlPlanes {
  readonly source: InjectedControlPlane;
  readonly destination: InjectedControlPlane;
}

/** A real node of the global setup (its data, without `stop`). */
export type InjectedTestNode = Omit<TestNode, 'stop' | typeof Symbol.asyncDispose>;

/** The real nodes of the `integration` project: one registered with each control plane. */
export interface InjectedTestNodes {
  readonly source: InjectedTestNode;
  readonly destination: InjectedTestNode;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Provided by test-utils/control-plane/src/global-setup.ts (the `integration` project). */
    controlPlanes: InjectedControlPlanes;
    /** Provided by the same global setup: a kubelet + containerd node of each control plane. */
    testNodes: InjectedTestNodes;
  }
}

/** The control planes the `integration` project's global setup started; throws outside that project. */
export function controlPlanesFromInject(): InjectedControlPlanes {
  const planes: InjectedControlPlanes | undefined = inject('controlPlanes');
  if (planes === undefined)
    throw new Error(
      "no control planes were provided: run this test in vitest's `integration` project, whose globalSetup is test-utils/control-plane/src/global-setup.ts",
    );
  return planes;
}

/** The real node of a control plane (`source` by default) that the `integration` project's global setup started. */
export function testNodeFromInject(plane: keyof InjectedTestNodes = 'source'): InjectedTestNode {
  const node: InjectedTestNode | undefined = inject('testNodes')?.[plane];
  if (node === undefined)
    throw new Error(
      "no test node was provided: run this test in vitest's `integration` project, whose globalSetup is test-utils/control-plane/src/global-setup.ts",
    );
  return node;
}
