/**
 * `decodeUpstreamClusterConfigNode` reads a cache entry from the document the cache reader parsed
 * once (issue 13: the entry's text used to be parsed three more times). It must be exactly
 * `decodeUpstreamClusterConfig` of the entry's text: the same configuration, or the same errors
 * at the same places. Checked on chosen cases and on hostile entries.
 */
import {
  CONFIG_LIMITS,
  ConfigError,
  decodeUpstreamClusterConfig,
  decodeUpstreamClusterConfigNode,
  parseYamlDocument,
} from '@ocne/config';
import { hostileInput } from '@ocne/test-hostile';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAlias, isMap, type YAMLMap, type Node as YamlNode } from 'yaml';

const FILE = '/h/.ocne/clusters.yaml';

/** The outcome of a decode: the configuration, or the issues of its error. */
function outcome(decode: () => unknown): unknown {
  try {
    return { config: decode() };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { issues: error.issues };
  }
}

/** Both decodes of the `config` of each entry of a cache text; `undefined` when the text is no cache. */
function both(text: string): Array<{ snippet: unknown; node: unknown }> | undefined {
  let parsed: ReturnType<typeof parseYamlDocument>;
  try {
    parsed = parseYamlDocument(text, { file: FILE, maxBytes: CONFIG_LIMITS.maxCacheBytes });
  } catch {
    return undefined;
  }
  const clusters = isMap(parsed.doc.contents) ? parsed.doc.contents.get('clusters', true) : undefined;
  if (!isMap(clusters)) return undefined;
  const out: Array<{ snippet: unknown; node: unknown }> = [];
  for (const pair of clusters.items) {
    const entry = isAlias(pair.value) ? parsed.resolveAlias(pair.value) : pair.value;
    if (!isMap(entry)) continue;
    const configIn = entry.get('config', true);
    const node = (isAlias(configIn) ? parsed.resolveAlias(configIn) : configIn) as YamlNode | undefined;
    if (!isMap(node) || !node.range) continue;
    const range = node.range;
    const path = `clusters.${String((pair.key as { value?: unknown }).value)}.config`;
    // What the cache reader did before: the entry's own text, its first line's start blanked.
    const lineStart = parsed.text.lastIndexOf('\n', range[0] - 1) + 1;
    const snippet = ' '.repeat(range[0] - lineStart) + parsed.text.slice(range[0], range[1]);
    const firstLine = parsed.lines.linePos(range[0]).line;
    out.push({
      snippet: outcome(() => decodeUpstreamClusterConfig(snippet, { file: FILE, path, firstLine })),
      node: outcome(() => decodeUpstreamClusterConfigNode(parsed, node as YAMLMap, { file: FILE, path })),
    });
  }
  return out;
}

const entry = (name: string, config: string): string =>
  `    ${name}:\n        kubeconfig: /k/${name}\n        config:\n${config
    .split(/\r\n|\r|\n/)
    .map((l) => `            ${l}`)
    .join('\n')}\n`;

describe('decodeUpstreamClusterConfigNode', () => {
  const cases: Record<string, string> = {
    'a full entry': `clusters:\n${entry('a', 'name: a\nprovider: byo\nworkerNodes: 2\nheadlessfake: true\nkubernetesVersion: 1.30\nproviders:\n    byo:\n        automaticTokenCreationfake: true')}`,
    'an alias inside the entry': `clusters:\n${entry('a', 'name: a\nproxy: &p\n    httpsProxy: x\nproviders:\n    oci:\n        proxy: *p')}`,
    'an alias to an anchor outside the entry is unknown, as in its own text': `x: &p {httpsProxy: x}\nclusters:\n${entry('a', 'name: a\nproxy: *p')}`,
    'an alias to the entry itself': `clusters:\n    a:\n        kubeconfig: /k\n        config: &c\n            name: a\n            proxy: *c\n`,
    'a merge key naming its own mapping': `clusters:\n${entry('a', 'name: a\nproxy: &p\n    <<: *p')}`,
    'a whole entry by alias': `clusters:\n    a:\n        kubeconfig: /k\n        config: &c\n            name: a\n            workerNodes: 3\n    b:\n        kubeconfig: /k\n        config: *c\n`,
    'a flow mapping': `clusters:\n    a: {kubeconfig: /k, config: {name: a, workerNodes: x, proxy: [1]}}\n`,
    'wrong types and unknown keys': `clusters:\n${entry('a', 'name: [a]\nworkerNodes: 1e99\nnope: 1\nproviders:\n    libvirt:\n        controlPlaneNode: 3')}`,
    'CR line ends':
      'clusters:\r    a:\r        kubeconfig: /k\r        config:\r            name: a\r            workerNodes: x\r',
    'an entry larger than a configuration may be': `clusters:\n${entry('a', `name: a\nclusterDefinitionInline: "${'x'.repeat(CONFIG_LIMITS.maxConfigBytes)}"`)}`,
  };
  for (const [name, text] of Object.entries(cases)) {
    it(`reads ${name} as the entry's own text reads`, () => {
      const results = both(text);
      expect(results?.length).toBeGreaterThan(0);
      for (const { snippet, node } of results ?? []) expect(node).toEqual(snippet);
    });
  }

  it('reads any hostile entry as its own text reads', () => {
    const decoder = new TextDecoder();
    fc.assert(
      fc.property(hostileInput, ({ bytes }) => {
        for (const { snippet, node } of both(`clusters:\n${entry('x', decoder.decode(bytes))}`) ?? [])
          expect(node).toEqual(snippet);
      }),
      { numRuns: Number(process.env.OCNE_HOSTILE_RUNS ?? 300) },
    );
  }, 120_000);
});
