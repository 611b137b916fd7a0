#!/usr/bin/env node
// The `shapefold` command: shapefold is written in TypeScript and runs through tsx, which also
// lets `shapefold check model.ts` import a model written in the typed DSL.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
