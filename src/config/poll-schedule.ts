// Validates --poll.schedule: node-cron's own check, plus the mistake it lets through. A
// step larger than its field's range ("*/75" seconds) is valid cron that fires once per
// minute, never every 75 seconds; the operator meant an interval cron cannot express.

import { validateDetailed } from 'node-cron';

interface CronField {
  name: string;
  min: number;
  max: number;
  /** The next larger unit: a step cannot reach past it. */
  per: string;
}

const withoutSeconds: CronField[] = [
  { name: 'minutes', min: 0, max: 59, per: 'hour' },
  { name: 'hours', min: 0, max: 23, per: 'day' },
  { name: 'day of month', min: 1, max: 31, per: 'month' },
  { name: 'month', min: 1, max: 12, per: 'year' },
  // 0 and 7 are both Sunday: seven days.
  { name: 'day of week', min: 0, max: 6, per: 'week' },
];
const withSeconds: CronField[] = [{ name: 'seconds', min: 0, max: 59, per: 'minute' }, ...withoutSeconds];

/** Every problem of a node-cron expression (5 fields, or 6 with seconds first); none when valid. */
export function scheduleProblems(expression: string): string[] {
  const result = validateDetailed(expression);
  if (!result.valid) {
    const why = result.errors.map((error) => `${error.field}: ${error.message}`).join('; ');
    return [`not a valid cron expression (${why || 'unparseable'})`];
  }
  const parts = expression.trim().split(/\s+/);
  const fields = parts.length === 6 ? withSeconds : parts.length === 5 ? withoutSeconds : [];
  const problems: string[] = [];
  fields.forEach((field, index) => {
    for (const item of (parts[index] as string).split(',')) {
      const step = Number(/\/(\d+)$/.exec(item)?.[1]);
      const size = field.max - field.min + 1;
      if (step > size) {
        problems.push(
          `the ${field.name} field "${item}" steps by ${step}, more than its range ${field.min}-${field.max}: it fires once per ${field.per}, not every ${step} ${field.name}. A cron step cannot cross the ${field.per}: use a step of at most ${size}, e.g. */${Math.floor(size / 2)}`,
        );
      }
    }
  });
  return problems;
}
