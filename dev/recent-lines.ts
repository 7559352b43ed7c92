// A ring of the last lines a child process printed (PostgreSQL, PgBouncer), so that a
// failing start can say why instead of "exited 1".

export class RecentLines {
  readonly #limit: number;
  readonly #lines: string[] = [];
  #pushed = 0;

  /** `who` names the process in "(… printed nothing)". */
  constructor(
    limit: number,
    private readonly who: string,
  ) {
    this.#limit = limit;
  }

  push(chunk: string): void {
    for (const line of chunk.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      this.#lines.push(line);
      this.#pushed++;
    }
    if (this.#lines.length > this.#limit) this.#lines.splice(0, this.#lines.length - this.#limit);
  }

  lines(): string[] {
    return [...this.#lines];
  }

  /** A position in the stream of lines, for since(). */
  mark(): number {
    return this.#pushed;
  }

  /** The kept lines pushed after mark() returned `position`. */
  since(position: number): string[] {
    const count = Math.min(this.#pushed - position, this.#lines.length);
    return count <= 0 ? [] : this.#lines.slice(-count);
  }

  /** Lines indented for an error message; all kept lines by default. */
  render(lines: string[] = this.#lines): string {
    return lines.length === 0 ? `  (${this.who} printed nothing)` : lines.map((l) => `  ${l}`).join('\n');
  }
}
