// The official `openai` SDK, unchanged but for its base URL, against switchyard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, eventually } from './harness.mjs';

let stack;
let client;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'unused-by-the-gateway', maxRetries: 0 });
});
after(() => stack?.stop());

const messages = [{ role: 'user', content: 'Say something.' }];

test('plain completion', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'mock/len-7/seed-1', messages })
    .withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices[0].message.role, 'assistant');
  assert.ok(data.choices[0].message.content.length > 10);
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.equal(data.usage.completion_tokens, 7);
  assert.equal(response.headers.get('x-switchyard-model'), 'mock/len-7/seed-1');
  assert.match(response.headers.get('x-switchyard-request-id'), /^req_/);
});

test('the built-in demo provider answers, with its cost', async () => {
  const { data: r, response } = await client.chat.completions.create({ model: 'demo/cheap', messages }).withResponse();
  assert.ok(r.choices[0].message.content.length > 0);
  // demo/cheap: 0.05 per million input tokens, 0.20 per million output tokens.
  const want = (r.usage.prompt_tokens * 0.05 + r.usage.completion_tokens * 0.2) / 1e6;
  assert.ok(Math.abs(r.usage.cost - want) < 1e-10, `usage.cost ${r.usage.cost} != ${want}`);
  assert.ok(Math.abs(Number(response.headers.get('x-switchyard-cost-usd')) - want) < 1e-10);
});

test('streaming completion with usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'mock/len-12/gap-5ms',
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let chunks = 0;
  let usage;
  let finish;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.choices[0]?.delta?.content) text += chunk.choices[0].delta.content;
    if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(chunks, 15); // role, 12 deltas, finish, usage
  assert.equal(finish, 'stop');
  assert.equal(usage.completion_tokens, 12);
  assert.equal(text.split(' ').length, 12);
});

test('stream helper reassembles the message', async () => {
  const runner = client.chat.completions.stream({ model: 'mock/len-9', messages });
  const done = await runner.finalChatCompletion();
  assert.equal(done.choices[0].message.content.split(' ').length, 9);
});

test('unknown model is a NotFoundError with a hint', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'demo/fats', messages }),
    (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      assert.match(err.message, /Did you mean 'demo\/fast'/);
      return true;
    },
  );
});

test('upstream rate limit passes through as RateLimitError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'mock/status-429', messages }),
    (err) => {
      assert.ok(err instanceof OpenAI.RateLimitError);
      assert.equal(err.headers.get('retry-after'), '1');
      return true;
    },
  );
});

test('client abort cancels the upstream request', async () => {
  const controller = new AbortController();
  const stream = await client.chat.completions.create(
    { model: 'mock/len-500/gap-20ms', messages, stream: true },
    { signal: controller.signal },
  );
  let seen = 0;
  try {
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content && ++seen === 3) controller.abort();
    }
  } catch (err) {
    // Depending on timing the SDK ends the iteration or throws its abort error.
    assert.ok(err instanceof OpenAI.APIUserAbortError || err.name === 'AbortError', String(err));
  }
  assert.equal(seen, 3);
  assert.ok(await eventually(async () => (await stack.mockStats()).active === 0), 'the mock still streams');
});

test('models list', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  for (const id of ['demo/fast', 'demo/smart', 'demo/cheap']) assert.ok(ids.includes(id), id);
  const one = await client.models.retrieve('demo/fast');
  assert.equal(one.owned_by, 'demo');
});
