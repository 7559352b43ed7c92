// Reads each setting from argv, else the environment, else its default, and parses it with
// its schema. Every problem is collected rather than thrown, so all of them are reported at once.

import type { z } from 'zod';
import { settings, settingsByFlag, type Setting, type SettingFlag, type SettingValues } from './settings.js';

export type Environment = Record<string, string | undefined>;

/** The settings that parsed, each under its flag; an invalid one is absent (its problems are already listed). */
export type ParsedSettings = { [F in SettingFlag]?: { value: SettingValues[F] } };

export interface SettingsRead {
  parsed: ParsedSettings;
  /** Where each given setting came from: `--flag`, an environment variable, or 'default'. An unset one is absent. */
  sources: Map<SettingFlag, string>;
  /** The settings given as flags, which win over the environment and defaults. */
  onCommandLine: ReadonlySet<SettingFlag>;
}

/** Reads and parses every setting; what is invalid is added to `problems` and left out of `parsed`. */
export function readSettings(args: string[], env: Environment, problems: string[]): SettingsRead {
  const flags = readFlags(args, problems);
  const raw = rawValues(flags, env);
  const parsed: ParsedSettings = {};
  for (const setting of settings) parseSetting(setting.flag, raw.get(setting.flag), parsed, problems);
  return { parsed, sources: new Map([...raw].map(([flag, { from }]) => [flag, from])), onCommandLine: new Set(flags.keys()) };
}

/** A setting's value once every setting is known to be valid. */
export function validValue<F extends SettingFlag>(parsed: ParsedSettings, flag: F): SettingValues[F] {
  const setting = parsed[flag];
  // Callers read this only after finding no problem: an absent setting is a bug here, not bad configuration.
  if (setting === undefined) throw new Error(`--${flag} is read as valid, but it did not parse`);
  return setting.value;
}

/** Splits argv into --flag values; unknown flags and missing values are problems, not crashes. */
function readFlags(args: string[], problems: string[]): Map<SettingFlag, string | boolean> {
  const values = new Map<SettingFlag, string | boolean>();
  const byFlag = new Map<string, Setting>(settings.map((setting) => [setting.flag, setting]));
  const takesNextArg = (i: number) => {
    const next = args[i + 1];
    return next !== undefined && !next.startsWith('--');
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const match = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!match) {
      problems.push(`unexpected argument "${arg}"`);
      continue;
    }
    const [, name = '', inlineValue] = match;
    const setting = byFlag.get(name);
    if (!setting) {
      problems.push(`unknown flag --${name}`);
      // Its value, if any, is part of the same mistake: one problem, not two.
      if (inlineValue === undefined && takesNextArg(i)) i++;
      continue;
    }
    if (inlineValue !== undefined) {
      values.set(setting.flag, inlineValue);
    } else if (setting.boolean) {
      values.set(setting.flag, true);
    } else if (takesNextArg(i)) {
      values.set(setting.flag, args[++i] ?? '');
    } else {
      problems.push(`--${name} needs a value`);
    }
  }
  return values;
}

interface RawValue {
  value: string | boolean | undefined;
  from: string;
}

/** The raw value of each setting: flag, else the first environment variable set, else the default. */
function rawValues(flags: Map<SettingFlag, string | boolean>, env: Environment): Map<SettingFlag, RawValue> {
  const raw = new Map<SettingFlag, RawValue>();
  for (const setting of settings) {
    if (flags.has(setting.flag)) {
      raw.set(setting.flag, { value: flags.get(setting.flag), from: `--${setting.flag}` });
      continue;
    }
    const envName = setting.env?.find((name) => env[name] !== undefined && env[name] !== '');
    if (envName) {
      raw.set(setting.flag, { value: env[envName], from: envName });
    } else if (setting.default !== undefined) {
      raw.set(setting.flag, { value: setting.default, from: 'default' });
    }
  }
  return raw;
}

// The table as parseSetting reads it: typed by flag, so the compiler checks that each schema
// outputs that setting's value type, which a cast would only assert.
const declarations: { [F in SettingFlag]: { schema: z.ZodType<SettingValues[F]>; secret?: boolean } } = settingsByFlag;

/**
 * Generic in the flag so the value is stored under its own setting's type; `parsed` is typed
 * over F alone because that is the form in which the compiler checks such a write.
 */
function parseSetting<F extends SettingFlag>(
  flag: F,
  input: RawValue | undefined,
  parsed: { [K in F]?: { value: SettingValues[K] } },
  problems: string[],
): void {
  const declaration = declarations[flag];
  const result = declaration.schema.safeParse(input?.value);
  if (result.success) {
    parsed[flag] = { value: result.data };
    return;
  }
  const shown = declaration.secret ? '(value hidden)' : JSON.stringify(input?.value);
  const where = input ? `${input.from}=${shown}` : `--${flag}`;
  for (const issue of result.error.issues) problems.push(`${where}: ${issue.message}`);
}
