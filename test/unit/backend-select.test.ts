/**
 * Backend selection: the preference order with reasons for each fallback, the option and the
 * SHAPEFOLD_BACKEND override, and named errors for backends that cannot run.
 * (@tensorflow/tfjs-node is not installed here, so 'tensorflow' is always the first fallback.)
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../../src/backend/errors.ts';
import { BACKEND_ENV_VAR, selectBackend, type BackendName } from '../../src/backend/select.ts';
import { WASM_GRADIENT_KERNELS } from '../../src/backend/wasm-gradients.ts';

const saved = process.env[BACKEND_ENV_VAR];
afterEach(() => {
  if (saved === undefined) delete process.env[BACKEND_ENV_VAR];
  else process.env[BACKEND_ENV_VAR] = saved;
});

describe('selectBackend', () => {
  it('without a request picks wasm and says why tensorflow was skipped', async () => {
    delete process.env[BACKEND_ENV_VAR];
    const info = await selectBackend();
    expect(info.name).toBe('wasm');
    expect(info.requested).toBeUndefined();
    expect(info.fallbacks).toHaveLength(1);
    expect(info.fallbacks[0].name).toBe('tensorflow');
    expect(info.fallbacks[0].reason).toMatch(/@tensorflow\/tfjs-node cannot be loaded/);
    expect(info.detail).toMatch(/^wasm \((no )?SIMD, \d+ threads?\)$/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('registers the gradient kernels wasm lacks', async () => {
    await selectBackend({ backend: 'wasm' });
    for (const kernel of WASM_GRADIENT_KERNELS) expect(tf.getKernel(kernel, 'wasm'), kernel).toBeDefined();
  });

  it('follows SHAPEFOLD_BACKEND, and the option wins over it', async () => {
    process.env[BACKEND_ENV_VAR] = 'cpu';
    const fromEnv = await selectBackend();
    expect(fromEnv).toMatchObject({ name: 'cpu', requested: 'cpu', fallbacks: [] });
    expect(tf.getBackend()).toBe('cpu');
    const fromOption = await selectBackend({ backend: 'wasm' });
    expect(fromOption).toMatchObject({ name: 'wasm', requested: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('an unavailable requested backend is a named error saying why, not a silent fallback', async () => {
    const attempt = selectBackend({ backend: 'tensorflow' });
    await expect(attempt).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(selectBackend({ backend: 'tensorflow' })).rejects.toThrow(
      /backend 'tensorflow' is unavailable: @tensorflow\/tfjs-node cannot be loaded/,
    );
    expect(tf.getBackend()).toBe('wasm');
  });

  it('an unknown name, by option or environment, is a named error listing the choices', async () => {
    await expect(selectBackend({ backend: 'gpu' as BackendName })).rejects.toThrow(/backend 'gpu' is unavailable: not one of tensorflow, wasm, cpu/);
    process.env[BACKEND_ENV_VAR] = 'webgl';
    await expect(selectBackend()).rejects.toThrow(/SHAPEFOLD_BACKEND='webgl' is not one of tensorflow, wasm, cpu/);
  });
});
