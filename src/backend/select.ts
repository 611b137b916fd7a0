/**
 * Backend selection. tfjs backends are process-wide, so this sets the one every later tfjs call
 * uses. Preference order: 'tensorflow' (native TensorFlow via the optional @tensorflow/tfjs-node,
 * not installed in most environments), then 'wasm' (XNNPACK kernels; in Node its .wasm binaries
 * load from the package's own dist folder, SIMD is detected at init, threads need browser
 * workers so Node runs one), then 'cpu' (plain JS, always present).
 *
 * A backend asked for explicitly, by option or by SHAPEFOLD_BACKEND, is not silently replaced:
 * if it cannot start, BackendUnavailableError says why.
 */
import * as tf from '@tensorflow/tfjs-core';
// Registers 'cpu', the backend always present; tfjs-core alone has none.
import '@tensorflow/tfjs-backend-cpu';
import { BackendUnavailableError } from './errors.ts';
import { registerWasmGradientKernels } from './wasm-gradients.ts';

export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  /** The backend now active. */
  readonly name: BackendName;
  /** What the option or SHAPEFOLD_BACKEND asked for, if anything. */
  readonly requested?: BackendName;
  /** Backends tried before `name`, with the reason each was skipped. */
  readonly fallbacks: readonly { readonly name: BackendName; readonly reason: string }[];
  /** A short description of the active backend's configuration, e.g. 'wasm (SIMD, 1 thread)'. */
  readonly detail: string;
}

export const BACKEND_ENV_VAR = 'SHAPEFOLD_BACKEND';

function isBackendName(s: string): s is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(s);
}

function requestedBackend(option: BackendName | undefined): BackendName | undefined {
  if (option !== undefined) {
    if (!isBackendName(option)) {
      throw new BackendUnavailableError(String(option), `not one of ${BACKEND_NAMES.join(', ')}`);
    }
    return option;
  }
  const fromEnv = process.env[BACKEND_ENV_VAR]?.trim();
  if (fromEnv === undefined || fromEnv === '') return undefined;
  if (!isBackendName(fromEnv)) {
    throw new BackendUnavailableError(fromEnv, `${BACKEND_ENV_VAR}='${fromEnv}' is not one of ${BACKEND_NAMES.join(', ')}`);
  }
  return fromEnv;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

/** How tfjs-backend-wasm runs, as BackendInfo.detail says it: 'wasm (SIMD, 1 thread)'. */
export const wasmDetail = (simd: boolean, threads: number): string => `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'})`;

/**
 * tfjs's cpu backend prints an "install tfjs-node" notice on first use in Node. shapefold already
 * reports which backend runs and why the others do not, so the notice only repeats that, and it
 * also fires when wasm borrows cpu gradient kernels. `firstUse` is the flag the notice checks.
 */
function quietCpuNotice(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu !== null && 'firstUse' in cpu) cpu.firstUse = false;
}

/**
 * For the CLI, before anything touches a tensor (reading a Layers model's weights does): makes
 * tfjs's default backend active now, so that the instance whose notice is silenced is the one
 * used (tfjs replaces a backend merely looked up when it first picks one).
 */
export function silenceTfjsNotice(): void {
  tf.backend();
  quietCpuNotice();
}

/** Makes `name` the active backend and describes it, or returns why it cannot run. */
async function activate(name: BackendName): Promise<{ detail: string } | { reason: string }> {
  if (name === 'tensorflow') {
    // A variable specifier keeps TypeScript from requiring the optional package's types.
    const nodeBindings: string = '@tensorflow/tfjs-node';
    try {
      await import(nodeBindings);
    } catch (e) {
      return { reason: `@tensorflow/tfjs-node cannot be loaded (${messageOf(e)})` };
    }
  }
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm') | undefined;
  if (name === 'wasm') {
    try {
      wasm = await import('@tensorflow/tfjs-backend-wasm');
    } catch (e) {
      return { reason: `@tensorflow/tfjs-backend-wasm cannot be loaded (${messageOf(e)})` };
    }
  }
  let started: boolean;
  try {
    started = await tf.setBackend(name);
    await tf.ready();
  } catch (e) {
    return { reason: `initialisation failed (${messageOf(e)})` };
  }
  if (!started || tf.getBackend() !== name) return { reason: 'tfjs could not initialise it' };
  quietCpuNotice();
  if (wasm !== undefined) {
    registerWasmGradientKernels();
    return { detail: wasmDetail(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), wasm.getThreadsCount()) };
  }
  return { detail: name === 'tensorflow' ? 'tensorflow (native TensorFlow C library)' : 'cpu (plain JavaScript kernels)' };
}

/**
 * Activates the requested backend (option, else SHAPEFOLD_BACKEND) or the best available one,
 * and reports which one runs and why the better ones did not.
 */
export async function selectBackend(opts: { backend?: BackendName } = {}): Promise<BackendInfo> {
  const requested = requestedBackend(opts.backend);
  const candidates: readonly BackendName[] = requested !== undefined ? [requested] : BACKEND_NAMES;
  const fallbacks: { name: BackendName; reason: string }[] = [];
  for (const name of candidates) {
    const outcome = await activate(name);
    if ('detail' in outcome) {
      return requested === undefined ? { name, fallbacks, detail: outcome.detail } : { name, requested, fallbacks, detail: outcome.detail };
    }
    if (requested !== undefined) throw new BackendUnavailableError(name, outcome.reason);
    fallbacks.push({ name, reason: outcome.reason });
  }
  throw new BackendUnavailableError('cpu', 'no tfjs backend could be initialised');
}
