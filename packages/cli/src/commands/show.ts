/** `ocne cluster show`: a cached cluster's configuration and kubeconfig path as YAML, or one field of it. */
import type { Command, OptionValues } from 'commander';
import { type CliContext, Exit, facade } from '../context.js';
import { requiredText, text } from '../option-values.js';

/** The flags of `show`. */
export interface ShowOptions {
  /** `-C`, `ocne` when not given. */
  readonly clusterName: string;
  /** A dotted path such as `config.provider`; `undefined` shows everything. */
  readonly field: string | undefined;
}

const showOptions = (values: OptionValues): ShowOptions => ({
  clusterName: requiredText(values, 'clusterName'),
  field: text(values, 'field'),
});

/** One step of a dotted path, read as JavaScript's `value?.[key]` reads it (strings have a length). */
const step = (value: unknown, key: string): unknown =>
  value === undefined || value === null ? undefined : Reflect.get(Object(value), key);

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
  if (options.field !== undefined) {
    const value = options.field.split('.').reduce<unknown>(step, shown);
    if (value === undefined) throw new Exit(context.fail(`no field ${options.field}`, 'OCNE_USAGE', 2));
    const { stringify } = await loadYaml();
    context.stdout.write(typeof value === 'object' ? stringify(value) : `${String(value)}\n`);
  } else {
    const { stringify } = await loadYaml();
    context.stdout.write(stringify(shown));
  }
}

/** Adds `show` to the `cluster` command. */
export function addShow(cluster: Command, context: CliContext): void {
  cluster
    .command('show')
    .description('Show a cached cluster: its configuration and kubeconfig path, as YAML')
    .option('-C, --cluster-name <name>', 'name of the cluster', 'ocne')
    .option('-f, --field <path>', 'print one field, such as kubeconfig or config.provider')
    .action((values: OptionValues) => show(context, showOptions(values)));
}
