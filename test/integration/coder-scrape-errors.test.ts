// What a failed scrape says, against real sockets: a refused port, a reset connection, a
// target that never answers and one that never finishes. Each message says what happened
// in plain words and what to check next, never a raw Node error, never a credential.

import { afterAll, describe, expect, it } from 'vitest';
import { scrapeReplica } from '../../src/sources/coder.js';
import { hangingTarget, refusingTarget, resettingTarget, tricklingTarget, truncatingTarget, type Target } from '../support/misbehaving-targets.js';

const targets: Target[] = [];

async function keep(target: Promise<Target>): Promise<Target> {
  const started = await target;
  targets.push(started);
  return started;
}

afterAll(async () => {
  await Promise.all(targets.map((target) => target.close()));
});

describe('a scrape that fails on the network', () => {
  it('says a refused connection is refused, and how coderd must listen', async () => {
    const { url } = await refusingTarget();
    expect(await scrapeReplica(url, 2000)).toEqual({
      ok: false,
      error: `cannot scrape ${url}: connection refused (ECONNREFUSED): is coderd running in this pod with CODER_PROMETHEUS_ENABLE=true, and is ${new URL(url).port} the port of its CODER_PROMETHEUS_ADDRESS?`,
    });
  });

  it('never echoes a credential that sits in the target URL', async () => {
    const { port } = await refusingTarget();
    const outcome = await scrapeReplica(`http://scrape-user:Pa55-word@127.0.0.1:${port}/metrics`, 2000);
    expect(outcome.ok).toBe(false);
    const error = outcome.ok ? '' : outcome.error;
    expect(error).toContain(`cannot scrape http://***@127.0.0.1:${port}/metrics: connection refused`);
    for (const part of ['scrape-user', 'Pa55', 'word']) expect(error).not.toContain(part);
  });

  it('says a reset connection was reset, and that the next poll tries again', async () => {
    const target = await keep(resettingTarget());
    expect(await scrapeReplica(target.url, 2000)).toEqual({
      ok: false,
      error: `cannot scrape ${target.url}: the connection was reset (ECONNRESET) before a complete answer: coderd restarted, or something in between (a proxy, a mesh sidecar) closed it; the next poll tries again`,
    });
  });

  it('discards a body cut off before its end, even with the pool figures read, as a reset', async () => {
    const target = await keep(truncatingTarget());
    expect(await scrapeReplica(target.url, 2000)).toEqual({
      ok: false,
      error: `cannot scrape ${target.url}: the connection was reset (ECONNRESET) before a complete answer: coderd restarted, or something in between (a proxy, a mesh sidecar) closed it; the next poll tries again`,
    });
  });

  it('tells a target that connected but never answered from a slow exposition', async () => {
    const [hanging, trickling] = await Promise.all([keep(hangingTarget()), keep(tricklingTarget())]);
    const [silent, slow] = await Promise.all([scrapeReplica(hanging.url, 300), scrapeReplica(trickling.url, 300)]);
    expect(silent).toEqual({
      ok: false,
      error: `cannot scrape ${hanging.url}: connected, but no answer within 300 ms (--poll.timeout): coderd's metrics handler is stuck or overloaded; look at coderd's CPU and logs, or raise --poll.timeout`,
    });
    expect(slow).toEqual({
      ok: false,
      error: `cannot scrape ${trickling.url}: the exposition did not finish within 300 ms (--poll.timeout): it is very large (many workspaces) or coderd sends it slowly; raise --poll.timeout`,
    });
  });
});
