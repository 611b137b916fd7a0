/** Every shapefold command, in the order `shapefold --help` lists them. Add a command here. */
import type { Command } from '../args.ts';
import { benchCommand } from './bench.ts';
import { checkCommand } from './check.ts';
import { codegenCommand } from './codegen.ts';
import { foldCommand } from './fold.ts';
import { infoCommand } from './info.ts';
import { proveCommand } from './prove.ts';

export const COMMANDS: readonly Command[] = [checkCommand, foldCommand, proveCommand, benchCommand, codegenCommand, infoCommand] as readonly Command[];
