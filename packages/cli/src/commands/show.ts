/**
 * `ocne cluster show`: one field of a cached cluster, the kubeconfig path unless `-f` names another
 * (so that `export KUBECONFIG=$(ocne cluster show -C byocluster)` works, as upstream documents), or
 * with `-a` the whole entry as YAML.
 */
import type { Command, OptionValues } from 'commander';
import { type CliContext, Exit, facade } from '../context.js';
import { flag, requiredText } from '../option-values.js';

/** The flags of `show`. */
export interface ShowOptions {
  /** `-C`, `ocne` when not given. */
  readonly clusterName: string;
  /** `-f`: a dotted path such as `config.provider`, `kubeconfig` when not given. */
  readonly field: string;
  /** `-a`: the whole entry (wins over `-f`, as upstream). */
  readonly all: boolean;
}

const showOptions = (values: OptionValues): ShowOptions => ({
  clusterName: requiredText(values, 'clusterName'),
  field: requiredText(values, 'field'),
  all: flag(values, 'all'),
});

/**
 * One step of a dotted path, as upstream's `show` takes it: a key of a mapping compared without
 * case, an index of a list. Only the value's own keys: `constructor` is no field.
 */
function step(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return /^\d+$/.test(key) ? value[Number(key)] : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const lower = key.toLowerCase();
  const own = Object.keys(value).find((k) => k.toLowerCase() === lower);
  return own === undefined ? undefined : (value as Record<string, unknown>)[own];
}

/**
 * `yaml` on first use. It is CommonJS: a bundler's chunk of it has its exports as `default`.
 * `@ocne/core` is loaded here too, not at the top, so `--help` loads no package but commander.
 */
const loadYaml = async (): Promise<typeof import('yaml')> =>
  (await import('@ocne/core')).commonJsExports(await import('yaml'), 'stringify');

/** Runs `show`: exit 1 for an unknown cluster, 2 for a field it does not have. */
export async function show(context: CliContext, options: ShowOptions): Promise<void> {
  const Cluster = await facade();
  const cluster = (await Cluster.list(context.base())).find((c) => c.name === options.clusterName);
  if (cluster === undefined)
    throw new Exit(context.fail(`Cluster ${options.clusterName} does not exist`, 'OCNE_CLUSTER_UNKNOWN'));
  const shown: Record<string, unknown> = { config: cluster.config, kubeconfig: cluster.kubeconfigPath };
  const { stringify } = await loadYaml();
  if (options.all) {
    await context.out(stringify(shown));
    return;
  }
  const value = options.field.split('.').reduce<unknown>(step, shown);
  if (value === undefined) throw new Exit(context.fail(`no field ${options.field}`, 'OCNE_USAGE', 2));
  await context.out(typeof value === 'object' && value !== null ? stringify(value) : `${String(value)}\n`);
}

/** The flags and action of `show` (the command table in `main.ts` names and describes it). */
export function configure(command: Command, context: CliContext): void {
  command
    .option('-C, --cluster-name <name>', 'name of the cluster', 'ocne')
    .option('-f, --field <path>', 'the field to print, such as config.provider', 'kubeconfig')
    .option('-a, --all', 'print the whole cluster configuration, as YAML')
    .action((values: OptionValues) => show(context, showOptions(values)));
}
