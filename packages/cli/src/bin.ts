#!/usr/bin/env node
import { main } from './main.js';

// Ctrl-C cancels the running operation (it cleans up and exits 1); a second one exits at once.
const controller = new AbortController();
process.once('SIGINT', () => {
  controller.abort('interrupted');
  process.once('SIGINT', () => process.exit(130));
});
process.exitCode = await main({ argv: process.argv.slice(2), signal: controller.signal });
