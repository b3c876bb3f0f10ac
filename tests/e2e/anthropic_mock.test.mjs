// The mock upstream's Anthropic Messages protocol, read by the official `@anthropic-ai/sdk`:
// the gateway's Anthropic provider and dialect are tested against this mock, so it must speak
// the protocol exactly (shapes, the SSE event order, error bodies, headers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startStack } from './harness.mjs';

let stack;
let client;

before(async () => {
  stack = await startStack();
  client = new Anthropic({ baseURL: stack.mockURL, apiKey: 'sk-e2e', maxRetries: 0 });
});
after(() => stack?.stop());

const messages = [{ role: 'user', content: 'Say something.' }];

test('mock: a plain message', async () => {
  const { data, response } = await client.messages.create({ model: 'len-6/seed-2', max_tokens: 64, messages }).withResponse();
  assert.equal(data.type, 'message');
  assert.equal(data.role, 'assistant');
  assert.match(data.id, /^msg_/);
  assert.equal(data.content[0].type, 'text');
  assert.equal(data.content[0].text.trim().split(' ').length, 6);
  assert.equal(data.stop_reason, 'end_turn');
  assert.equal(data.usage.output_tokens, 6);
  assert.ok(data.usage.input_tokens > 0);
  assert.match(response.headers.get('request-id'), /^req_/);
});

test('mock: a stream in the documented event order', async () => {
  const stream = client.messages.stream({ model: 'len-5/gap-2ms', max_tokens: 64, messages });
  const types = [];
  stream.on('streamEvent', (e) => types.push(e.type));
  const final = await stream.finalMessage();
  assert.deepEqual(types, [
    'message_start', 'content_block_start',
    'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_delta',
    'content_block_stop', 'message_delta', 'message_stop',
  ]);
  assert.equal(final.content[0].text.trim().split(' ').length, 5);
  assert.equal(final.usage.output_tokens, 5);
  assert.equal(final.stop_reason, 'end_turn');
});

test('mock: errors in Anthropic shape', async () => {
  await assert.rejects(client.messages.create({ model: 'status-429/retry-after-7s', max_tokens: 8, messages }), (e) => {
    assert.ok(e instanceof Anthropic.RateLimitError);
    assert.equal(e.error.type, 'error');
    assert.equal(e.error.error.type, 'rate_limit_error');
    assert.equal(e.headers.get('retry-after'), '7');
    return true;
  });
  await assert.rejects(client.messages.create({ model: 'status-529', max_tokens: 8, messages }), (e) => {
    assert.equal(e.status, 529);
    assert.equal(e.error.error.type, 'overloaded_error');
    return true;
  });
  const wrongKey = new Anthropic({ baseURL: stack.mockURL, apiKey: 'nope', maxRetries: 0 });
  await assert.rejects(wrongKey.messages.create({ model: 'len-1', max_tokens: 8, messages }), Anthropic.AuthenticationError);
  await assert.rejects(
    fetch(`${stack.mockURL}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-e2e', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'len-1', messages }),
    }).then(async (r) => {
      assert.equal(r.status, 400);
      const body = await r.json();
      assert.deepEqual(body, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
      throw new Error('rejected as expected');
    }),
    /rejected as expected/,
  );
});
