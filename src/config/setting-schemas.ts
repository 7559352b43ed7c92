// The forms a setting's value can take (a duration, a pod count, a listen address...) as zod
// schemas. Each failure message names the expected form, so the settings table stays declarative.

import { z } from 'zod';
import type { MaxSurge, OtherBudget } from '../model/snapshot.js';
import { parseOtherBudgets } from './other-budget.js';
import { parsePgbouncerUrls, type PgbouncerTarget } from './pgbouncer-urls.js';
import { scheduleProblems } from './poll-schedule.js';
import { postgresUrlProblems } from './postgres-url.js';

export const nonNegativeInt = z.coerce
  .number({ message: 'expected a whole number' })
  .int('expected a whole number')
  .min(0, 'must be 0 or more');

const MS_PER_UNIT = new Map([
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
]);

/** 500ms, 5s, 1m or 24h, as milliseconds. */
export const duration = z.string().transform((text, ctx) => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  const msPerUnit = MS_PER_UNIT.get(match?.[2] ?? '');
  if (!match || msPerUnit === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 5s, 1m or 24h' });
    return z.NEVER;
  }
  const ms = Number(match[1]) * msPerUnit;
  if (ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be longer than 0' });
    return z.NEVER;
  }
  return ms;
});

/** A count (2) or a percentage (25%) of replicas, as a Deployment's maxSurge and maxUnavailable. */
export const podCount = (field: string) =>
  z.string().transform((text, ctx): MaxSurge => {
    const match = /^(\d+)(%?)$/.exec(text.trim());
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `expected a count (2) or a percentage (25%), as Kubernetes ${field}` });
      return z.NEVER;
    }
    return match[2] === '%' ? { kind: 'percent', value: Number(match[1]) } : { kind: 'count', value: Number(match[1]) };
  });

export const otherBudgets = z.string().transform((text, ctx): OtherBudget[] => {
  const { budgets, problems } = parseOtherBudgets(text);
  for (const message of problems) ctx.addIssue({ code: 'custom', message });
  return budgets;
});

export const pgbouncerUrls = z.string().transform((text, ctx): PgbouncerTarget[] => {
  const { targets, problems } = parsePgbouncerUrls(text);
  for (const message of problems) ctx.addIssue({ code: 'custom', message });
  return targets;
});

export const cronSchedule = z.string().superRefine((text, ctx) => {
  for (const message of scheduleProblems(text)) ctx.addIssue({ code: 'custom', message });
});

export const listenAddress = z.string().transform((text, ctx) => {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    ctx.addIssue({ code: 'custom', message: 'expected [host]:port, e.g. :9816 or 127.0.0.1:9816' });
    return z.NEVER;
  }
  return { host: match[1] ?? match[2] ?? '', port };
});

export const postgresUrl = z.string().superRefine((text, ctx) => {
  for (const message of postgresUrlProblems(text)) ctx.addIssue({ code: 'custom', message });
});

/** A flag given bare means true; from the environment, true/false/1/0. */
export const booleanFlag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1');
