// Starts the mock upstream and the gateway as processes on free loopback ports.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BINARY = process.env.SWITCHYARD_BIN ?? new URL('../../build/release/src/cli/switchyard', import.meta.url).pathname;

function start(args) {
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${args[0]} exited with ${code}: ${out}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        child.removeAllListeners('exit');
        resolve({ child, port: Number(m[1]) });
      }
    });
  });
}

export async function startStack() {
  const mock = await start(['mock-upstream', '--port', '0', '--api-key', 'sk-e2e']);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-'));
  const config = join(dir, 'switchyard.yaml');
  writeFileSync(config, [
    'demo: true',
    'providers:',
    '  - name: mock',
    '    kind: openai',
    `    base_url: http://127.0.0.1:${mock.port}/v1`,
    '    api_key: sk-e2e',
    "    models: '*'",
    '',
  ].join('\n'));
  const gateway = await start(['serve', '--config', config, '--listen', '127.0.0.1:0', '--workers', '2']);
  return {
    baseURL: `http://127.0.0.1:${gateway.port}/v1`,
    async mockStats() {
      const r = await fetch(`http://127.0.0.1:${mock.port}/mock/stats`, { headers: { authorization: 'Bearer sk-e2e' } });
      return r.json();
    },
    stop() {
      gateway.child.kill('SIGTERM');
      mock.child.kill('SIGTERM');
    },
  };
}

// Polls `check` until it returns true or `ms` pass (for effects that cannot be awaited).
export async function eventually(check, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
