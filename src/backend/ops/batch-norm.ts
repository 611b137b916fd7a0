/**
 * batchNorm and batchRenorm over every axis but the channel axis (the last one here):
 *
 *   eval, or frozen:   y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta
 *                      (frozen 'all': gamma and beta are not trainable either)
 *   train:             mu_B, var_B = mean and biased variance of the batch
 *                      y = gamma * (x - mu_B) / sqrt(var_B + eps) + beta
 *                      running <- decay * running + (1 - decay) * stat, with var_B * n/(n-1)
 *                      (n values per channel) when unbiasedRunningVar; decay null: the
 *                      cumulative average running + (stat - running) / (t + 1), t = batchesTracked
 *   no running stats:  (trackRunningStats false) the train form in eval mode too, nothing updated
 *   affine false:      no gamma, beta
 *   batchRenorm train: sigma_B = sqrt(var_B + eps); mu, sigma = renormMean, max(renormStd, sqrt(eps))
 *                      (sigma 'movingStddev') or runningMean, sqrt(runningVar + eps) ('runningVar')
 *                      r = clip(sigma_B / sigma, 1/rMax_t, rMax_t)
 *                      d = clip((mu_B - mu) / sigma, -dMax_t, dMax_t)
 *                      y = gamma * ((x - mu_B) / sigma_B * r + d) + beta
 *                      r and d are constants to backprop (stop-gradient), and come from the
 *                      statistics as they were before this batch updates them: running ones as
 *                      BatchNorm's, renormMean/renormStd <- moving averages of mu_B, sigma_B with
 *                      renormDecay, batchesTracked + 1 (src/reference/ops/batchRenorm.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BatchRenormAttrs, NodeOf, RenormWarmup } from '../../ir/graph.ts';
import { ExecutionError } from '../errors.ts';
import type { Mode, NodeParams, OpBuilder, RunningStats } from './types.ts';

/** Forward: identity. Backward: zero. (tfjs has no tf.stopGradient.) */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad((x) => ({
  value: tf.clone(x as tf.Tensor),
  gradFunc: (dy) => tf.zerosLike(dy as tf.Tensor),
}));

/** Mean and biased variance per channel, and n, the number of values each is taken over. */
export function batchMoments(x: tf.Tensor): { mean: tf.Tensor; variance: tf.Tensor; count: number } {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  return { mean, variance, count: x.size / x.shape[x.rank - 1] };
}

/** How the running statistics move: RunningStatsUpdate, or a cumulative average when decay is null. */
export interface RunningStatsRule {
  readonly decay: number | null;
  readonly unbiasedRunningVar: boolean;
}

/**
 * running <- running + w * (stat - running), w = 1 - decay, or 1 / (t + 1) for a cumulative
 * average over t + 1 batches (decay null, t held in batchesTracked, which then counts this one).
 */
export function updateRunningStats(
  node: { readonly name: string; readonly op: string },
  stats: RunningStats,
  rule: RunningStatsRule,
  batch: { mean: tf.Tensor; variance: tf.Tensor; count: number },
  batchesTracked?: tf.Variable,
): void {
  if (rule.unbiasedRunningVar && batch.count < 2) {
    throw new ExecutionError(
      node.name,
      node.op,
      `train mode needs more than 1 value per channel for an unbiased running variance, got ${batch.count}`,
    );
  }
  if (rule.decay === null && batchesTracked === undefined) throw new ExecutionError(node.name, node.op, 'a cumulative average (decay null) needs param batchesTracked');
  const unbias = rule.unbiasedRunningVar ? batch.count / (batch.count - 1) : 1;
  tf.tidy(() => {
    const weight: tf.Tensor | number = rule.decay === null ? tf.reciprocal(tf.add(batchesTracked as tf.Variable, 1)) : 1 - rule.decay;
    const toward = (running: tf.Variable, stat: tf.Tensor) => running.assign(tf.add(running, tf.mul(tf.sub(stat, running), weight)));
    toward(stats.runningMean, batch.mean);
    toward(stats.runningVar, tf.mul(batch.variance, unbias));
    if (rule.decay === null) batchesTracked?.assign(tf.add(batchesTracked, 1));
  });
}

/**
 * (x - mean) / sqrt(variance + eps), then gamma and beta when given. With running statistics,
 * tf.batchNorm: one fused kernel. With batch statistics (training) the arithmetic is spelled out
 * as (x - mean) * s + beta with the per-channel s = gamma / sqrt(variance + eps): tf.batchNorm's
 * gradient in tfjs 4.22 tiles 1/sqrt(variance + eps) to the whole input and takes about eight
 * passes over it (a fifth of a LeNet-BN training step on wasm), the spelled-out one three; and it
 * needs gamma and beta, which IBN's BatchNorm half and affine: false do not have.
 */
function normalizeWith(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, eps: number, fused: boolean, gamma?: tf.Tensor, beta?: tf.Tensor): tf.Tensor {
  if (fused && gamma !== undefined && beta !== undefined) return tf.batchNorm(x, mean, variance, beta, gamma, eps);
  const invStd = tf.rsqrt(tf.add(variance, eps));
  const centred = tf.sub(x, mean);
  if (gamma === undefined || beta === undefined) return tf.mul(centred, invStd);
  return tf.add(tf.mul(centred, tf.mul(invStd, gamma)), beta);
}

/** What batchNormalize holds for a node: running statistics unless it keeps none, its affine unless it has none. */
export interface BatchNormState {
  readonly stats?: RunningStats;
  readonly batchesTracked?: tf.Variable;
  readonly gamma?: tf.Tensor;
  readonly beta?: tf.Tensor;
}

/**
 * Batch normalisation, with the affine part when the state has gamma/beta. Without running
 * statistics (trackRunningStats false) it normalises with the batch's in eval mode too.
 */
export function batchNormalize(node: NodeOf<'batchNorm'> | NodeOf<'ibn'>, state: BatchNormState, x: tf.Tensor, mode: Mode): tf.Tensor {
  const a = node.attrs;
  const { stats, gamma, beta } = state;
  if (stats !== undefined && (mode === 'eval' || a.frozen)) return normalizeWith(x, stats.runningMean, stats.runningVar, a.eps, true, gamma, beta);
  const batch = batchMoments(x);
  if (stats !== undefined) updateRunningStats(node, stats, a, batch, state.batchesTracked);
  return normalizeWith(x, batch.mean, batch.variance, a.eps, false, gamma, beta);
}

/** gamma and beta: trainable, unless the node is frozen 'all'. */
export function affineOf(node: NodeOf<'batchNorm'> | NodeOf<'ibn'>, params: NodeParams): { gamma: tf.Variable; beta: tf.Variable } {
  const hold = node.attrs.frozen === 'all' ? params.fixed : params.trainable;
  return { gamma: hold('gamma'), beta: hold('beta') };
}

export const batchNorm: OpBuilder<'batchNorm'> = (node, params) => {
  const a = node.attrs;
  const tracked = a.trackRunningStats !== false;
  const state: BatchNormState = {
    ...(a.affine === false ? {} : affineOf(node, params)),
    stats: tracked ? params.runningStats() : undefined,
    batchesTracked: tracked && a.decay === null ? params.fixed('batchesTracked') : undefined,
  };
  return { forward: ([x], mode) => batchNormalize(node, state, x, mode) };
};

/** rMax_t and dMax_t (src/ir/graph.ts, RenormWarmup) at t = batchesTracked, as tensors: no read-back per step. */
function warmedUpClips(a: BatchRenormAttrs, batchesTracked: tf.Tensor): { rMax: tf.Tensor; dMax: tf.Tensor } {
  const warmup = a.warmup as RenormWarmup;
  const ramp = (end: number) => tf.clipByValue(tf.div(tf.sub(batchesTracked, warmup.holdSteps), end - warmup.holdSteps), 0, 1);
  return { rMax: tf.add(tf.mul(ramp(warmup.rMaxSteps), a.rMax - 1), 1), dMax: tf.mul(ramp(warmup.dMaxSteps), a.dMax) };
}

const blend = (old: tf.Tensor, fresh: tf.Tensor, decay: number): tf.Tensor => tf.add(tf.mul(old, decay), tf.mul(fresh, 1 - decay));

export const batchRenorm: OpBuilder<'batchRenorm'> = (node, params) => {
  const a = node.attrs;
  const gamma = params.trainable('gamma');
  const beta = params.trainable('beta');
  const stats = params.runningStats();
  const moving = a.sigma === 'movingStddev' ? { mean: params.fixed('renormMean'), std: params.fixed('renormStd') } : undefined;
  const batchesTracked = a.warmup === null ? undefined : params.fixed('batchesTracked');
  return {
    forward: ([x], mode) => {
      if (mode === 'eval') return tf.batchNorm(x, stats.runningMean, stats.runningVar, beta, gamma, a.eps);
      const batch = batchMoments(x);
      const sigmaB = tf.sqrt(tf.add(batch.variance, a.eps));
      const mu = moving === undefined ? stats.runningMean : moving.mean;
      const sigma = moving === undefined ? tf.sqrt(tf.add(stats.runningVar, a.eps)) : tf.maximum(moving.std, Math.sqrt(a.eps));
      const clips = batchesTracked === undefined ? { rMax: tf.scalar(a.rMax), dMax: tf.scalar(a.dMax) } : warmedUpClips(a, batchesTracked);
      const r = stopGradient(tf.minimum(tf.maximum(tf.div(sigmaB, sigma), tf.reciprocal(clips.rMax)), clips.rMax));
      const d = stopGradient(tf.minimum(tf.maximum(tf.div(tf.sub(batch.mean, mu), sigma), tf.neg(clips.dMax)), clips.dMax));
      updateRunningStats(node, stats, a, batch);
      tf.tidy(() => {
        if (moving !== undefined) {
          moving.mean.assign(blend(moving.mean, batch.mean, a.renormDecay));
          moving.std.assign(blend(moving.std, sigmaB, a.renormDecay));
        }
        batchesTracked?.assign(tf.add(batchesTracked, 1));
      });
      const xHat = tf.add(tf.mul(tf.div(tf.sub(x, batch.mean), sigmaB), r), d);
      return tf.add(tf.mul(xHat, gamma), beta);
    },
  };
};
