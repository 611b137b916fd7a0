#!/usr/bin/env node
/** The `shapefold` executable (built to dist/src/cli/bin.js). */
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
