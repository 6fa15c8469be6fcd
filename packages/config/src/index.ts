/**
 * @ocne/config: the OCNE cluster configuration (`capi.yaml`, `byo.yaml`, ...) and defaults file
 * (`~/.ocne/defaults.yaml`) as typed data, layered exactly as the upstream `ocne` CLI layers them,
 * with provenance for every value and errors that name the file, line, column and YAML path.
 *
 * @example
 * ```ts
 * import { loadConfig } from '@ocne/config';
 * const { cluster, provenance } = await loadConfig({ configPath: 'byo.yaml' });
 * console.log(cluster.virtualIp, provenance.sourceOf('virtualIp'));
 * ```
 *
 * @packageDocumentation
 */

export type { CoreApplication, CoreApplicationFacts } from './applications.js';
export { coreApplications, kubeletClusterDns } from './applications.js';
export {
  builtinDefaults,
  DEFAULT_BOOT_IMAGE,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_OS_REGISTRY,
  DEFAULT_REGISTRY,
  DEFAULTS_ENV,
  PROVIDERS,
} from './defaults.js';
export type { ConfigErrorCode, ConfigIssue, SourceLocation } from './errors.js';
export { ConfigError, formatIssue } from './errors.js';
export type {
  ConfigFile,
  ConfigFileKey,
  ConfigFileSettings,
  ConfigFiles,
  ExtraIgnitionFiles,
  ReadConfigFilesOptions,
} from './files.js';
export {
  CONFIG_FILE_KEYS,
  ConfigFileError,
  configFileContents,
  configFilePaths,
  EXTRA_IGNITION_EXTENSIONS,
  readConfigFiles,
} from './files.js';
export { clusterConfigSchema, defaultsConfigSchema } from './generated/schemas.js';
export type { ImageReference, OstreeReference } from './images.js';
export {
  ensureBootImageVersion,
  imageTransport,
  makeOstreeReference,
  parseOstreeReference,
  splitImage,
} from './images.js';
export type { InlineTextOrigin, TextPosition } from './inline-origin.js';
export { isIP, isIPv4, isIPv6 } from './ip.js';
export type { KubernetesVersionInfo } from './kubernetes-versions.js';
export {
  DEFAULT_KUBERNETES_VERSION,
  isSupportedKubernetesVersion,
  kubernetesVersionInfo,
  supportedKubernetesVersions,
} from './kubernetes-versions.js';
export type { ConfigLayer, DerivedOrigin, Provenance, ValueSource } from './layers.js';
export { LAYER_ORDER, LayerKind } from './layers.js';
export type { ConfigLimits } from './limits.js';
export { CONFIG_LIMITS } from './limits.js';
export type { LoadConfigOptions } from './load.js';
export { loadConfig } from './load.js';
export type { ParsedLayer, ParseOptions } from './parse.js';
export { parseClusterConfig, parseDefaultsConfig } from './parse.js';
export type { ResolveOptions } from './resolve.js';
export { resolveConfig } from './resolve.js';
export type {
  ApiEndpoint,
  Resolved,
  ResolvedClusterConfig,
  ResolvedConfig,
  ResolvedDefaultsConfig,
} from './resolved.js';
export type { JsonSchema, ParsedYamlDocument, ParseYamlDocumentOptions, Position } from './schema-walk.js';
export { parseYamlDocument } from './schema-walk.js';
export { decodeConfigBytes } from './text.js';
export type {
  Application,
  ByoProvider,
  Catalog,
  CertificateInformation,
  ClusterConfig,
  CommonConfig,
  DefaultsConfig,
  EphemeralClusterConfig,
  Images,
  LibvirtProvider,
  LibvirtSegment,
  NamespacedName,
  Node,
  OciLoadBalancer,
  OciProvider,
  OlvmCpu,
  OlvmCpuTopology,
  OlvmIpv4,
  OlvmIpv6,
  OlvmLocalApiEndpoint,
  OlvmMachine,
  OlvmNetwork,
  OlvmOck,
  OlvmOvirtApiServer,
  OlvmProvider,
  OlvmVirtualMachine,
  OlvmVmNetwork,
  OvirtCsiDriver,
  Providers,
  Proxy,
  Shape,
} from './types.js';
export type { DecodeUpstreamNodeOptions, DecodeUpstreamOptions } from './upstream-yaml.js';
export {
  decodeUpstreamClusterConfig,
  decodeUpstreamClusterConfigNode,
  encodeUpstreamClusterConfig,
} from './upstream-yaml.js';
export type { Architecture, Cidr, CompartmentRef, IpFamily, Ocid } from './values.js';
export { architectureFromShape, parseCidr } from './values.js';
export { stringifyYaml, yamlStringifyOptions } from './yaml-stringify.js';
export type { YamlWriteOptions } from './yaml-write.js';
export { writeYaml } from './yaml-write.js';
