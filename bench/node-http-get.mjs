// One GET with node:http, the body read and thrown away: what the bench's own clients use
// where they must not load fetch (undici) into the process they measure. Resolves with the
// status code.

import http from 'node:http';

export function drainGet(url, options = {}) {
  return new Promise((resolve, reject) => {
    http
      .get(url, options, (response) => {
        response.on('data', () => undefined);
        response.once('end', () => resolve(response.statusCode));
        response.once('error', reject);
      })
      .once('error', reject);
  });
}
