/** `ocne cluster template`: prints the Cluster API resources of a cluster, offline. */
import type { Command, OptionValues } from 'commander';
import { type CliContext, facade } from '../context.js';
import { configPath, text } from '../option-values.js';

/** The flags of `template`; `undefined` means not given. */
export interface TemplateOptions {
  readonly config: string | undefined;
  readonly provider: string | undefined;
}

const templateOptions = (values: OptionValues): TemplateOptions => ({
  config: text(values, 'config'),
  provider: text(values, 'provider'),
});

/** Runs `template`: the resources as YAML documents on stdout. */
export async function template(context: CliContext, options: TemplateOptions): Promise<void> {
  const Cluster = await facade();
  // -P wins over the file's provider; without either, oci. (Upstream's -P defaults to oci and so
  // always overrides the file; here a file's own provider counts when -P is not given.)
  const cluster = await Cluster.open(context.openOptions(options, 'oci'));
  await context.out(await context.follow(cluster.template(context.operationOptions)));
}

/** The flags and action of `template` (the command table in `main.ts` names and describes it). */
export function configure(command: Command, context: CliContext): void {
  command
    .option('-c, --config <path>', 'cluster configuration file', configPath)
    .option('-P, --provider <provider>', 'provider (overrides the configuration file)')
    .option('-k, --kubeconfig <path>', 'kubeconfig of the management cluster (unused, as upstream)')
    .action((values: OptionValues) => template(context, templateOptions(values)));
}
