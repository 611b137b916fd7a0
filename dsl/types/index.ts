/** Type-level integer arithmetic and the type-level mirror of the run-time dim algebra. */
export type * from './arith.ts';
export type * from './dim.ts';
