/**
 * `stringifyYaml`: our YAML writer (`yaml-write.ts`) with the `yaml` package behind it for what the
 * writer leaves out, so callers get `yaml`'s exact bytes either way and load `yaml` only when the
 * writer declines (which the documents our commands write never make it do).
 *
 * The fallback loads `yaml` synchronously (`createRequire`, `yaml` ships CommonJS for Node): the
 * writers that call this (`objectsToYaml`, the kubeadm configuration inside a node's Ignition) are
 * synchronous public functions, and a dynamic `import()` would make them, and everything above them,
 * asynchronous. A bundler leaves the computed `require` alone, so a bundle resolves `yaml` from where
 * it is installed, as the bundle's package depends on it.
 */
import type * as Yaml from 'yaml';
import { writeYaml, type YamlWriteOptions } from './yaml-write.js';

let yaml: typeof Yaml | undefined;

function loadYaml(): typeof Yaml {
  yaml ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yaml;
}

/**
 * The `yaml` options {@link writeYaml} follows for `options`: what {@link stringifyYaml} passes to
 * `yaml` when it falls back, and what the tests compare the writer with.
 */
export function yamlStringifyOptions(
  options: YamlWriteOptions,
): Yaml.DocumentOptions & Yaml.SchemaOptions & Yaml.CreateNodeOptions & Yaml.ToStringOptions {
  return {
    version: options.version ?? '1.2',
    indent: options.indent ?? 2,
    indentSeq: true,
    lineWidth: 0,
    nullStr: options.nullStr ?? 'null',
    aliasDuplicateObjects: options.aliasDuplicateObjects ?? true,
    blockQuote: options.blockQuote ?? true,
  };
}

/**
 * `value` as YAML, exactly as `yaml`'s `stringify(value, yamlStringifyOptions(options))` writes it:
 * through {@link writeYaml}, else through `yaml` (loaded then).
 *
 * @example
 * ```ts
 * stringifyYaml({ apiVersion: 'v1', kind: 'Secret' }, { indent: 4 }); // 'apiVersion: v1\nkind: Secret\n'
 * ```
 */
export function stringifyYaml(value: unknown, options: YamlWriteOptions = {}): string {
  return writeYaml(value, options) ?? loadYaml().stringify(value, yamlStringifyOptions(options));
}
