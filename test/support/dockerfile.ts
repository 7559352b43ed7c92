// A Dockerfile read the way BuildKit reads the parts we use: comments, line
// continuations, global ARGs with defaults, stages, and the exec (JSON) form. Tests use
// it to check the image's claims and to replay the runtime stage without an engine.

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY ... */
  keyword: string;
  /** Everything after the keyword, continuations joined, ARGs not yet substituted. */
  text: string;
  line: number;
}

export interface Stage {
  name: string | null;
  /** The image, global ARGs substituted. */
  from: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Map<string, string>;
  stages: Stage[];
}

export function parseDockerfile(source: string): Dockerfile {
  const instructions = splitInstructions(source);
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.text);
      if (!match) throw new Error(`line ${instruction.line}: cannot read FROM ${instruction.text}`);
      stages.push({ from: substitute(match[1] as string, globalArgs), name: match[2] ?? null, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage) {
      stage.instructions.push(instruction);
    } else if (instruction.keyword === 'ARG') {
      const [name, value = ''] = instruction.text.split('=', 2) as [string, string?];
      globalArgs.set(name.trim(), value.trim());
    } else {
      throw new Error(`line ${instruction.line}: ${instruction.keyword} before the first FROM`);
    }
  }
  return { globalArgs, stages };
}

/** The stage's ARG defaults (global ones it re-declares included) for ${NAME} substitution. */
export function stageArgs(file: Dockerfile, stage: Stage): Map<string, string> {
  const args = new Map<string, string>();
  for (const instruction of stage.instructions.filter((i) => i.keyword === 'ARG')) {
    const [name, value] = instruction.text.split('=', 2) as [string, string?];
    args.set(name.trim(), value?.trim() ?? file.globalArgs.get(name.trim()) ?? '');
  }
  return args;
}

export function substitute(text: string, args: Map<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => args.get((braced ?? bare) as string) ?? whole);
}

/** The exec form of ENTRYPOINT/CMD; the shell form is refused (it would run through /bin/sh, not as PID 1). */
export function execForm(instruction: Instruction): string[] {
  const parsed: unknown = JSON.parse(instruction.text);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`line ${instruction.line}: ${instruction.keyword} must use the exec form ["…"], got ${instruction.text}`);
  }
  return parsed as string[];
}

/** LABEL key="value" pairs (several per instruction), values unquoted and substituted. */
export function labels(stage: Stage, args: Map<string, string>): Map<string, string> {
  const result = new Map<string, string>();
  for (const instruction of stage.instructions.filter((i) => i.keyword === 'LABEL')) {
    for (const match of instruction.text.matchAll(/([\w.\-/]+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))/g)) {
      result.set(match[1] as string, substitute((match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1'), args));
    }
  }
  return result;
}

/** COPY's flags, sources and destination. */
export function copyParts(instruction: Instruction): { from: string | null; sources: string[]; destination: string } {
  const words = instruction.text.split(/\s+/);
  let from: string | null = null;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift() as string;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
  }
  const destination = words.pop();
  if (destination === undefined || words.length === 0) throw new Error(`line ${instruction.line}: COPY needs a source and a destination`);
  return { from, sources: words, destination };
}

function splitInstructions(source: string): Instruction[] {
  const result: Instruction[] = [];
  const lines = source.split('\n');
  let pending: { text: string; line: number } | null = null;
  lines.forEach((raw, index) => {
    const line = raw.trimEnd();
    // Comment lines are dropped, also inside a continued instruction (as BuildKit does).
    if (/^\s*#/.test(line) || (pending === null && line.trim() === '')) return;
    const continued = line.endsWith('\\');
    const piece = continued ? line.slice(0, -1) : line;
    pending = pending === null ? { text: piece.trim(), line: index + 1 } : { text: `${pending.text} ${piece.trim()}`, line: pending.line };
    if (continued) return;
    const match = /^(\w+)\s*(.*)$/s.exec(pending.text);
    if (match) result.push({ keyword: (match[1] as string).toUpperCase(), text: (match[2] as string).trim(), line: pending.line });
    pending = null;
  });
  return result;
}
