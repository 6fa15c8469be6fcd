// `node --import ./scripts/source-hooks.mjs file.ts`: runs TypeScript from this checkout without a
// build. Workspace packages resolve to their source through the `@ocne/source` export condition,
// and `./x.js` imports fall back to `./x.ts` (Node strips the types itself). Every resolved URL
// is collected in globalThis.__ocneLoadedModules, for tests of the module graph.
import { registerHooks } from 'node:module';

const loaded = new Set();
globalThis.__ocneLoadedModules = loaded;
registerHooks({
  resolve(specifier, context, next) {
    const ctx = { ...context, conditions: [...context.conditions, '@ocne/source'] };
    let result;
    try {
      result = next(specifier, ctx);
    } catch (error) {
      if (!specifier.startsWith('.') || !specifier.endsWith('.js')) throw error;
      result = next(`${specifier.slice(0, -3)}.ts`, ctx);
    }
    loaded.add(result.url);
    return result;
  },
});
