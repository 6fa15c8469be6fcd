// A real Kubernetes node for integration tests: Debian's containerd and runc, and a kubelet built
// at the API server's version (scripts/test-tools.sh), registered with a test control plane, so that
// admin pods run their commands for real and `exec` works through the API server and the kubelet.
//
// What this machine demands (measured, see the test-node notes): containerd's CRI must restrict
// OOM score adjustments (no process here may lower one), cgroupfs everywhere, a local sandbox
// image, no registry; the node is only Ready with a CNI config, so it gets a loopback-only one (only
// host-network pods run). The kubelet is reached by its Hostname address, and the node is named
// `localhost` so that the name resolves to 127.0.0.1 without touching /etc/hosts.
//
// The kubelet changes the host, and stopping undoes it: three sysctls, its bind mount, its cgroup
// root, and a few fixed paths (containerd's shim socket folder, the kubelet's device plugin folder,
// /var/log/containers) that did not exist before the first node started. Several test runs may share
// one machine (two checkouts, a benchmark beside the tests): each node has a cgroup root of its own
// (kubelets clean up every pod cgroup under theirs), and the machine-wide changes are counted in
// /run/ocne-test-nodes, so only the last node standing restores the host as the first one found it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { acquirePidLock } from '@ocne/core';
import { testTool } from '@ocne/test-tools';
import { stringify as stringifyYaml } from 'yaml';
import { freePorts, logTail, pollUntil } from './control-plane.ts';
import { request } from './http.ts';
import { buildNodeImages } from './node-images.ts';
import {
  guardDirectory,
  type LoggedProcess,
  releaseDirectory,
  spawnLogged,
  stopProcess,
} from './processes.ts';

const execFileAsync = promisify(execFile);

/** The image SDK admin pods run (upstream's default pod image): on the test node, busybox under that name. */
export const NODE_ADMIN_IMAGE = 'container-registry.oracle.com/os/oraclelinux:8';
/** The toolbox image (`ocne cluster console --toolbox`), as containerd names upstream's unqualified `olcne/ock:toolbox`. */
export const NODE_TOOLBOX_IMAGE = 'docker.io/olcne/ock:toolbox';
const PAUSE_IMAGE = 'localhost/ocne-test/pause:1';

/** What {@link startTestNode} needs of the control plane it joins. */
export interface NodeControlPlane {
  readonly url: string;
  readonly kubeconfigPath: string;
  readonly token: string;
  readonly ca: string;
}

/** Options of {@link startTestNode}. */
export interface TestNodeOptions {
  /** The control plane to register with; it must run with {@link NODE_APISERVER_ARGS}. */
  controlPlane: NodeControlPlane;
  signal?: AbortSignal;
  /** Bound on the whole start (images, containerd, kubelet, Node Ready); 120000 ms by default. */
  startTimeoutMs?: number;
  /**
   * The kubelet's cgroup root: one of its own by default (`/ocne-test-<pid>-<n>`). Two nodes must
   * never share one, or each kubelet cleans up the other's pod cgroups.
   */
  cgroupRoot?: string;
}

/** A running test node. Stop it with {@link TestNode.stop} (or `await using`). */
export interface TestNode {
  /** The Node's name (`localhost`: the kubelet is reached by it). */
  readonly name: string;
  /**
   * A folder on the host first on the admin image's `PATH`: an executable put here is found by
   * commands in admin pods, also under `chroot /hostroot` (test doubles such as `kubeadm`).
   */
  readonly binDir: string;
  readonly pids: { readonly containerd: number; readonly kubelet: number };
  /**
   * Where the node's pods write when they write to the host's `/etc` and `/var`: containerd (and so
   * every pod, `/hostroot` included) sees those two folders through overlays whose upper layers are
   * these, so admin pods can run scripts that change the host (a node move) without changing it.
   */
  readonly hostWrites: { readonly etc: string; readonly var: string };
  /** Stops the kubelet, the pods' containers and containerd, and undoes the kubelet's changes to the host. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** kube-apiserver flags a node on 127.0.0.1 needs (the kubelet is reached by its Hostname address). */
export const NODE_APISERVER_ARGS: readonly string[] = [
  '--kubelet-preferred-address-types=Hostname',
  // With --advertise-address=127.0.0.1 the default reconciler keeps failing on the loopback endpoint.
  '--endpoint-reconciler-type=none',
];

const NODE_NAME = 'localhost';
const SYSCTLS = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'];
/** Paths outside the node's folder that containerd or the kubelet create whatever they are told. */
const FIXED_PATHS = [
  '/run/containerd',
  '/var/lib/kubelet',
  '/var/log/containers',
  '/var/log/pods',
  '/opt/containerd',
  '/etc/kubernetes',
  '/usr/libexec/kubernetes',
  // util-linux's mount table of the kubelet's bind mount.
  '/run/mount',
];
const CGROUP_ROOT = '/sys/fs/cgroup';
const STOP_GRACE_MS = 5_000;

/** The cgroup hierarchies mounted on this machine (v1 controllers and the v2 `unified` one). */
async function cgroupHierarchies(): Promise<string[]> {
  const entries = await readdir(CGROUP_ROOT, { withFileTypes: true }).catch(() => []);
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => join(CGROUP_ROOT, e.name));
  return existsSync(join(CGROUP_ROOT, 'cgroup.controllers')) ? [CGROUP_ROOT] : dirs;
}

/** What the host was like before the first test node on it: sysctl values, and which fixed paths existed. */
interface HostState {
  sysctls: Record<string, string>;
  absentPaths: string[];
}

/** The machine-wide record of the running test nodes (a file per node) and of the host before them. */
const SHARED_DIR = '/run/ocne-test-nodes';
const SHARED_LOCK = '/run/ocne-test-nodes.lock';
const HOST_FILE = join(SHARED_DIR, 'host.json');

async function recordHost(): Promise<HostState> {
  const sysctls: Record<string, string> = {};
  for (const key of SYSCTLS) {
    const value = await readFile(join('/proc/sys', key), 'utf8').catch(() => undefined);
    if (value !== undefined) sysctls[key] = value.trim();
  }
  return { sysctls, absentPaths: FIXED_PATHS.filter((p) => !existsSync(p)) };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The registrations of nodes whose process still runs; those of dead processes are removed. */
async function liveRegistrations(): Promise<string[]> {
  const live: string[] = [];
  for (const name of await readdir(SHARED_DIR).catch(() => [] as string[])) {
    const pid = /^node-(\d+)-/.exec(name)?.[1];
    if (pid === undefined) continue;
    if (alive(Number(pid))) live.push(name);
    else await rm(join(SHARED_DIR, name), { force: true });
  }
  return live;
}

/**
 * Registers a node about to start. The first one (no live registration) keeps the host's state,
 * unless a crashed run already kept it: that record is older, so truer.
 */
async function registerNode(dir: string): Promise<string> {
  await using _lock = await acquirePidLock(SHARED_LOCK, { timeoutMs: 60_000 });
  await mkdir(SHARED_DIR, { recursive: true, mode: 0o700 });
  if ((await liveRegistrations()).length === 0 && !existsSync(HOST_FILE)) {
    await writeFile(HOST_FILE, JSON.stringify(await recordHost()));
  }
  const registration = `node-${process.pid}-${dir.split('/').pop()}`;
  await writeFile(join(SHARED_DIR, registration), dir);
  return registration;
}

/** Unregisters a stopped node; the last one restores the host as the first one found it. */
async function unregisterNode(registration: string): Promise<void> {
  await using _lock = await acquirePidLock(SHARED_LOCK, { timeoutMs: 60_000 });
  await rm(join(SHARED_DIR, registration), { force: true });
  if ((await liveRegistrations()).length > 0) return;
  const state = JSON.parse(await readFile(HOST_FILE, 'utf8').catch(() => 'null')) as HostState | null;
  if (state !== null) {
    await unmountAll(state.absentPaths);
    for (const path of state.absentPaths) await rm(path, { recursive: true, force: true, maxRetries: 3 });
    for (const [key, value] of Object.entries(state.sysctls)) {
      await writeFile(join('/proc/sys', key), `${value}\n`).catch(() => {});
    }
  }
  await rm(SHARED_DIR, { recursive: true, force: true });
}

let nodesStarted = 0;

/** Removes a cgroup tree (children first; a cgroup goes with rmdir once it has no processes). */
async function removeCgroup(path: string): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => undefined);
  if (entries === undefined) return;
  for (const entry of entries) if (entry.isDirectory()) await removeCgroup(join(path, entry.name));
  await rmdir(path).catch(() => {});
}

/** Mount points at or under one of `roots`, deepest first. */
async function mountsUnder(roots: readonly string[]): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => roots.some((root) => p === root || p.startsWith(`${root}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

async function unmountAll(roots: readonly string[]): Promise<void> {
  // A bind mount of a folder onto itself shows up once per layer: repeat until none is left.
  for (let round = 0; round < 5; round++) {
    const points = await mountsUnder(roots);
    if (points.length === 0) return;
    for (const point of points) {
      // -n: no entry in /run/mount/utab (util-linux would create that folder).
      await execFileAsync('umount', ['-n', point]).catch(() =>
        execFileAsync('umount', ['-n', '-l', point]).catch(() => {}),
      );
    }
  }
}

function containerdConfig(dir: string): string {
  // Written out rather than through a TOML library: a handful of keys, all strings and booleans.
  return `version = 2
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "${dir}/containerd.sock"

[ttrpc]
  address = "${dir}/containerd.ttrpc.sock"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${dir}/cni/bin"
    conf_dir = "${dir}/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${dir}/registry"
`;
}

function kubeletConfig(dir: string, port: number, healthzPort: number): string {
  return stringifyYaml({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: '127.0.0.1',
    port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort,
    containerRuntimeEndpoint: `unix://${dir}/containerd.sock`,
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    makeIPTablesUtilChains: false,
    // The API server connects without a client certificate: the node serves anyone on 127.0.0.1.
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    podLogsDir: join(dir, 'pod-logs'),
    volumePluginDir: join(dir, 'volume-plugins'),
    // Nothing may be evicted or garbage-collected for a full disk: the images cannot be pulled again.
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    nodeStatusUpdateFrequency: '2s',
  });
}

async function ctr(dir: string, args: readonly string[]): Promise<string> {
  const { stdout } = await execFileAsync('ctr', [
    '--address',
    join(dir, 'containerd.sock'),
    '-n',
    'k8s.io',
    ...args,
  ]);
  return stdout;
}

/** The PIDs in a cgroup tree. */
async function cgroupPids(path: string): Promise<number[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => undefined);
  if (entries === undefined) return [];
  const own = (await readFile(join(path, 'cgroup.procs'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const children = await Promise.all(
    entries.filter((e) => e.isDirectory()).map((e) => cgroupPids(join(path, e.name))),
  );
  return [...own, ...children.flat()];
}

/** The containerd shims of this node: found by the socket address on their command line. */
async function shimPids(dir: string): Promise<number[]> {
  const address = join(dir, 'containerd.sock');
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const found: number[] = [];
  for (const pid of pids) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (args[0]?.endsWith('containerd-shim-runc-v2') && args.includes(address)) found.push(Number(pid));
  }
  return found;
}

const killPid = (pid: number): void => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
};

/**
 * Ends every pod of the node by PID, without asking containerd (which may be slow to answer): the
 * processes in the node's `kubepods` cgroups first (their shims reap them), then the shims.
 */
async function killPods(dir: string, kubepods: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = await cgroupPids(kubepods);
    if (pids.length === 0) break;
    for (const pid of pids) killPid(pid);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const pid of await shimPids(dir)) killPid(pid);
}

/**
 * Starts containerd and a kubelet registered with `controlPlane`, and resolves once the Node is
 * Ready (about 5 s). On failure or abort everything started is stopped and undone, and the Error
 * carries the last lines of both logs.
 */
export async function startTestNode(options: TestNodeOptions): Promise<TestNode> {
  const { controlPlane, signal, startTimeoutMs = 120_000 } = options;
  signal?.throwIfAborted();
  const kubelet = testTool('kubelet');
  const deadline = AbortSignal.timeout(startTimeoutMs);
  const startSignal = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
  const cgroupRoot = options.cgroupRoot ?? `/ocne-test-${process.pid}-${++nodesStarted}`;
  const dir = await mkdtemp(join(tmpdir(), 'ocne-node-'));
  guardDirectory(dir);
  const registration = await registerNode(dir);
  const binDir = join(dir, 'bin');
  const processes: LoggedProcess[] = [];
  const logs = { containerd: join(dir, 'containerd.log'), kubelet: join(dir, 'kubelet.log') };
  const env = { ...process.env, PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };

  const stopAll = async (): Promise<void> => {
    const [containerd, kubeletProc] = processes;
    if (kubeletProc) await stopProcess(kubeletProc, { graceMs: STOP_GRACE_MS });
    const hierarchies = await cgroupHierarchies();
    const hierarchy = hierarchies.find((h) => h.endsWith('/pids')) ?? hierarchies[0];
    if (hierarchy !== undefined) await killPods(dir, join(hierarchy, cgroupRoot, 'kubepods'));
    if (containerd) await stopProcess(containerd, { graceMs: STOP_GRACE_MS });
    await unmountAll([dir]);
    const top = cgroupRoot === '/' ? 'kubepods' : cgroupRoot.replace(/^\/+/, '').split('/')[0];
    if (top) for (const hierarchy of hierarchies) await removeCgroup(join(hierarchy, top));
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    releaseDirectory(dir);
    await unregisterNode(registration);
  };

  try {
    await Promise.all(
      [
        binDir,
        join(dir, 'cni', 'net.d'),
        join(dir, 'cni', 'bin'),
        join(dir, 'registry'),
        join(dir, 'kubelet'),
      ].map((d) => mkdir(d, { recursive: true })),
    );
    await writeFile(
      join(dir, 'cni', 'net.d', '10-loopback.conflist'),
      JSON.stringify({ cniVersion: '0.4.0', name: 'loopback', plugins: [{ type: 'loopback' }] }),
    );
    await writeFile(join(dir, 'containerd.toml'), containerdConfig(dir));
    for (const hierarchy of await cgroupHierarchies())
      await mkdir(join(hierarchy, cgroupRoot), { recursive: true });
    await Promise.all(
      ['etc-upper', 'etc-work', 'var-upper', 'var-work'].map((d) =>
        mkdir(join(dir, 'host', d), { recursive: true }),
      ),
    );
    const images = buildNodeImages({
      dir: join(dir, 'images'),
      pauseImage: PAUSE_IMAGE,
      adminImages: [NODE_ADMIN_IMAGE, NODE_TOOLBOX_IMAGE],
      extraPath: [binDir],
    });
    // containerd, its shims and so every container live in a mount namespace of their own, in
    // which /etc and /var are overlays: what pods write there lands in the node's folder.
    const containerd = await spawnLogged(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        'set -e; for d in etc var; do mount -n -t overlay overlay -o "lowerdir=/$d,upperdir=$0/$d-upper,workdir=$0/$d-work" "/$d"; done; exec containerd --config "$1"',
        join(dir, 'host'),
        join(dir, 'containerd.toml'),
      ],
      { logPath: logs.containerd, env },
    );
    processes.push(containerd);
    await pollUntil(containerd, 'containerd', 'it answered', startSignal, async () => {
      await ctr(dir, ['version']);
      return true;
    });
    for (const archive of await images) await ctr(dir, ['images', 'import', archive.path]);
    await rm(join(dir, 'images'), { recursive: true, force: true });

    const [port, healthzPort] = (await freePorts(2)) as [number, number];
    await writeFile(join(dir, 'kubelet.yaml'), kubeletConfig(dir, port, healthzPort));
    const proc = await spawnLogged(
      kubelet,
      [
        `--config=${join(dir, 'kubelet.yaml')}`,
        `--kubeconfig=${controlPlane.kubeconfigPath}`,
        `--root-dir=${join(dir, 'kubelet')}`,
        `--hostname-override=${NODE_NAME}`,
        `--cgroup-root=${cgroupRoot}`,
        '--v=1',
      ],
      { logPath: logs.kubelet, env },
    );
    processes.push(proc);
    await pollUntil(proc, 'kubelet', `node ${NODE_NAME} was Ready`, startSignal, async (probeSignal) => {
      const res = await request(`${controlPlane.url}/api/v1/nodes/${NODE_NAME}`, {
        ca: controlPlane.ca,
        token: controlPlane.token,
        signal: probeSignal,
      });
      if (res.status !== 200) return false;
      const node = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    });

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= stopAll();
      return stopping;
    };
    return Object.freeze({
      name: NODE_NAME,
      binDir,
      pids: Object.freeze({ containerd: containerd.pid, kubelet: proc.pid }),
      hostWrites: Object.freeze({ etc: join(dir, 'host', 'etc-upper'), var: join(dir, 'host', 'var-upper') }),
      stop,
      [Symbol.asyncDispose]: stop,
    });
  } catch (error) {
    const tails = await Promise.all([logTail(logs.containerd), logTail(logs.kubelet)]);
    await stopAll();
    if (signal?.aborted) throw signal.reason;
    const why = deadline.aborted
      ? `was not ready within ${startTimeoutMs} ms`
      : `failed to start: ${error instanceof Error ? error.message : String(error)}`;
    throw new Error(`test node ${why}\n${tails.join('\n')}`, { cause: error });
  }
}
