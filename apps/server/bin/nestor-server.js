#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step), like the rest of the workspace.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
