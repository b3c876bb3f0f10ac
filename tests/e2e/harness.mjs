// Starts the mock upstream and the gateway as processes on free loopback ports.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BINARY = process.env.SWITCHYARD_BIN ?? new URL('../../build/release/src/cli/switchyard', import.meta.url).pathname;

function start(args, env = {}) {
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    const exitedEarly = (code) => reject(new Error(`${args[0]} exited with ${code}: ${out}`));
    const onData = (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        // Only our own listeners: stop() waits on 'exit' later. Later output is drained unread.
        child.off('exit', exitedEarly);
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.on('error', reject);
    child.on('exit', exitedEarly);
    child.stdout.on('data', onData);
  });
}

// The key for the routers admin API (/router/v1/routers); gateway requests need no key here.
export const ADMIN_KEY = 'sy-e2e-admin';

export async function startStack() {
  const mock = await start(['mock-upstream', '--port', '0', '--api-key', 'sk-e2e']);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-'));
  const config = join(dir, 'switchyard.yaml');
  // Three providers, all the one mock in its three protocols: `mock/...` (OpenAI chat
  // completions), `claude/...` (Anthropic Messages) and `gem/...` (Gemini generateContent). The
  // model name after the provider is the mock's behaviour (src/mock/behaviour.h).
  writeFileSync(config, [
    'demo: true',
    `database: ${join(dir, 'switchyard.db')}`,
    'providers:',
    '  - name: mock',
    '    kind: openai',
    `    base_url: http://127.0.0.1:${mock.port}/v1`,
    '    api_key: sk-e2e',
    "    models: '*'",
    '  - name: claude',
    '    kind: anthropic',
    `    base_url: http://127.0.0.1:${mock.port}/v1`,
    '    api_key: sk-e2e',
    "    models: '*'",
    '  - name: gem',
    '    kind: gemini',
    `    base_url: http://127.0.0.1:${mock.port}/v1beta`,
    '    api_key: sk-e2e',
    "    models: '*'",
    '',
  ].join('\n'));
  const gateway = await start(['serve', '--config', config, '--listen', '127.0.0.1:0', '--workers', '2'], {
    SWITCHYARD_ADMIN_KEY: ADMIN_KEY,
  });
  return {
    baseURL: `http://127.0.0.1:${gateway.port}/v1`,
    anthropicURL: `http://127.0.0.1:${gateway.port}/anthropic`,  // the Anthropic SDK's base URL
    rootURL: `http://127.0.0.1:${gateway.port}`,
    routersURL: `http://127.0.0.1:${gateway.port}/router/v1/routers`,
    mockURL: `http://127.0.0.1:${mock.port}`,  // the mock itself (key sk-e2e), without the gateway
    adminKey: ADMIN_KEY,
    async mockStats() {
      const r = await fetch(`http://127.0.0.1:${mock.port}/mock/stats`, { headers: { authorization: 'Bearer sk-e2e' } });
      return r.json();
    },
    async stop() {
      const exited = (c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r)));
      const waits = [exited(gateway.child), exited(mock.child)];
      gateway.child.kill('SIGTERM');
      mock.child.kill('SIGTERM');
      await Promise.all(waits);
      rmSync(dir, { recursive: true, force: true });  // the database, once the gateway has closed it
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
