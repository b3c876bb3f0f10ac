// The official `@anthropic-ai/sdk`, unchanged but for its base URL, against switchyard: the
// Messages endpoint at both base URLs, streaming, errors, and a router.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startStack } from './harness.mjs';

let stack;
let client;

before(async () => {
  stack = await startStack();
  client = new Anthropic({ baseURL: stack.anthropicURL, apiKey: 'unused-by-the-gateway', maxRetries: 0 });
});
after(() => stack?.stop());

const messages = [{ role: 'user', content: 'Say something.' }];

test('a message through /anthropic and through the bare base URL', async () => {
  for (const baseURL of [stack.anthropicURL, stack.rootURL]) {
    const c = new Anthropic({ baseURL, apiKey: 'x', maxRetries: 0 });
    const { data, response } = await c.messages.create({ model: 'claude/len-5/seed-4', max_tokens: 64, messages }).withResponse();
    assert.equal(data.type, 'message');
    assert.equal(data.content[0].text.trim().split(' ').length, 5);
    assert.equal(data.usage.output_tokens, 5);
    assert.equal(response.headers.get('x-switchyard-model'), 'claude/len-5/seed-4');
  }
});

test('a stream, event by event', async () => {
  const stream = client.messages.stream({ model: 'claude/len-4/gap-3ms', max_tokens: 64, messages });
  let text = '';
  stream.on('text', (t) => { text += t; });
  const final = await stream.finalMessage();
  assert.equal(text.trim().split(' ').length, 4);
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.usage.output_tokens, 4);
});

test('errors arrive as the SDK error classes', async () => {
  await assert.rejects(client.messages.create({ model: 'claude/status-529', max_tokens: 8, messages }), (e) => {
    assert.equal(e.status, 529);
    assert.equal(e.error.error.type, 'overloaded_error');
    return true;
  });
  await assert.rejects(client.messages.create({ model: 'nobody/x', max_tokens: 8, messages }), (e) => {
    assert.ok(e instanceof Anthropic.NotFoundError);
    assert.equal(e.error.error.type, 'not_found_error');
    return true;
  });
});

test('a router between Anthropic models, sticky by metadata.user_id', async () => {
  const router = {
    name: 'claude-ab',
    routes: [{ name: 'long', condition: { cel_expression: 'message_count > 2' },
               route: { variants: [{ variant: { modelId: 'claude/len-9' }, weight: 1 }] } }],
    defaultRoute: { variants: [{ variant: { modelId: 'claude/len-2' }, weight: 50 },
                                { variant: { modelId: 'claude/len-3' }, weight: 50 }] },
  };
  const created = await fetch(stack.routersURL, {
    method: 'POST', headers: { authorization: `Bearer ${stack.adminKey}` }, body: JSON.stringify(router),
  });
  assert.equal(created.status, 201, await created.text());
  const seen = new Set();
  for (let i = 0; i < 4; i++) {
    const { data, response } = await client.messages
      .create({ model: 'switchyard/claude-ab', max_tokens: 16, messages, metadata: { user_id: 'u-7' } })
      .withResponse();
    assert.equal(response.headers.get('x-switchyard-route'), 'default');
    seen.add(response.headers.get('x-switchyard-variant'));
    assert.equal(data.usage.output_tokens, response.headers.get('x-switchyard-variant') === 'claude/len-2' ? 2 : 3);
  }
  assert.equal(seen.size, 1);  // one user, one variant
});
