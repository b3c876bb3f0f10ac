// Translation between dialects, through the official SDKs: the `openai` SDK against Anthropic
// (`claude/...`) and Gemini (`gem/...`) models, the `@anthropic-ai/sdk` against OpenAI-protocol
// (`mock/...`) and Gemini models, and the Vercel AI SDK's OpenAI-compatible provider. All three
// providers are the same mock upstream, whose answer for a given `seed-N` is the same text in
// every protocol: what the mock itself says (asked directly, without the gateway) is the
// expected answer of every translated request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { generateText, streamText, tool, stepCountIs } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { z } from 'zod';
import { startStack } from './harness.mjs';

let stack;
let openai;
let anthropic;

before(async () => {
  stack = await startStack();
  openai = new OpenAI({ baseURL: stack.baseURL, apiKey: 'unused-by-the-gateway', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: stack.anthropicURL, apiKey: 'unused-by-the-gateway', maxRetries: 0 });
});
after(() => stack?.stop());

const messages = [{ role: 'user', content: 'Say something.' }];  // 2 prompt tokens for the mock (it counts words)
const sevenWords = [{ role: 'user', content: 'Say something about routers and models please.' }];

// The mock's own answer to `model` (its behaviour segments, no provider prefix), asked over its
// OpenAI protocol without the gateway: {content, reasoning_content, usage}.
async function mockAnswer(model) {
  const r = await fetch(`${stack.mockURL}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-e2e', 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages }),
  });
  assert.equal(r.status, 200, `the mock itself refused ${model}`);
  const body = await r.json();
  return { ...body.choices[0].message, usage: body.usage };
}
const mockText = async (model) => (await mockAnswer(model)).content;

// A tool whose arguments the mock derives from the schema: string → "mock-<prop>", integer and
// number → 42, boolean → true.
const weatherSchema = {
  type: 'object',
  properties: { city: { type: 'string' }, days: { type: 'integer' }, metric: { type: 'boolean' } },
  required: ['city'],
};
const weatherArgs = { city: 'mock-city', days: 42, metric: true };
const openaiTools = [{ type: 'function', function: { name: 'get_weather', description: 'The forecast.', parameters: weatherSchema } }];
const anthropicTools = [{ name: 'get_weather', description: 'The forecast.', input_schema: weatherSchema }];

// ---- the openai SDK → an Anthropic model ------------------------------------------------------

test('openai → anthropic: a plain completion, text and usage as the mock gave them', async () => {
  const want = await mockText('len-7/seed-3');
  const { data, response } = await openai.chat.completions.create({ model: 'claude/len-7/seed-3', messages }).withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices.length, 1);
  assert.equal(data.choices[0].message.role, 'assistant');
  assert.equal(data.choices[0].message.content, want);
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.equal(data.usage.prompt_tokens, 2);
  assert.equal(data.usage.completion_tokens, 7);
  assert.equal(data.usage.total_tokens, 9);
  assert.equal(response.headers.get('x-switchyard-model'), 'claude/len-7/seed-3');
  assert.equal(response.headers.get('x-switchyard-provider'), 'claude');
  // A model the catalog does not price (the provider's wildcard) says no cost.
  assert.equal(response.headers.get('x-switchyard-cost-usd'), null);
});

test('openai → anthropic: cached prompt tokens are part of prompt_tokens and reported as cached', async () => {
  const { choices, usage } = await openai.chat.completions.create({ model: 'claude/len-3/cached-4', messages: sevenWords });
  assert.equal(choices[0].finish_reason, 'stop');
  // The mock says input_tokens 3 + cache_read_input_tokens 4; OpenAI's prompt_tokens include the cached.
  assert.equal(usage.prompt_tokens, 7);
  assert.equal(usage.prompt_tokens_details.cached_tokens, 4);
  assert.equal(usage.completion_tokens, 3);
  assert.equal(usage.total_tokens, 10);
});

test('openai → anthropic: a catalog model is priced (header and usage.cost)', async () => {
  // `claude` is a provider of kind anthropic, so the shipped catalog's Anthropic models are its
  // own: claude/claude-haiku-4-5 is priced at $1 in, $5 out per million tokens. The mock answers
  // its default 16 tokens to this name.
  const { data, response } = await openai.chat.completions
    .create({ model: 'claude/claude-haiku-4-5', messages })
    .withResponse();
  assert.equal(data.usage.prompt_tokens, 2);
  assert.equal(data.usage.completion_tokens, 16);
  const want = (2 * 1 + 16 * 5) / 1e6;
  const header = response.headers.get('x-switchyard-cost-usd');
  assert.ok(header !== null, 'no x-switchyard-cost-usd header');
  assert.ok(Math.abs(Number(header) - want) < 1e-12, `x-switchyard-cost-usd ${header} != ${want}`);
  assert.ok(Math.abs(data.usage.cost - want) < 1e-12, `usage.cost ${data.usage.cost} != ${want}`);
});

test('openai → anthropic: a stream assembles to the whole answer, with a usage chunk', async () => {
  const whole = await openai.chat.completions.create({ model: 'claude/len-9/seed-11', messages });
  const stream = await openai.chat.completions.create({
    model: 'claude/len-9/seed-11/gap-2ms',
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let role;
  let finish;
  let usage;
  let contentChunks = 0;
  let afterUsage = 0;
  for await (const chunk of stream) {
    if (usage) afterUsage++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    const c = chunk.choices[0];
    if (c?.delta?.role) role = c.delta.role;
    if (c?.delta?.content) {
      text += c.delta.content;
      contentChunks++;
    }
    if (c?.finish_reason) finish = c.finish_reason;
    if (chunk.usage) {
      assert.deepEqual(chunk.choices, []);  // OpenAI's usage chunk has no choices
      usage = chunk.usage;
    }
  }
  assert.equal(role, 'assistant');
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(text, await mockText('len-9/seed-11'));
  assert.equal(contentChunks, 9);  // one delta per token, as the provider streamed them
  assert.equal(finish, 'stop');
  assert.ok(usage, 'no usage chunk');
  assert.equal(afterUsage, 0, 'the usage chunk is not the last');
  assert.equal(usage.prompt_tokens, 2);
  assert.equal(usage.completion_tokens, 9);
  assert.equal(usage.total_tokens, 11);
});

test('openai → anthropic: a stream without include_usage has no usage chunk', async () => {
  const stream = await openai.chat.completions.create({ model: 'claude/len-3/seed-1', messages, stream: true });
  let text = '';
  for await (const chunk of stream) {
    assert.ok(!chunk.usage, `unexpected usage: ${JSON.stringify(chunk.usage)}`);
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.equal(text, await mockText('len-3/seed-1'));
});

test('openai → anthropic: a tool call, whole, with parsed arguments', async () => {
  const r = await openai.chat.completions.create({
    model: 'claude/tool',
    messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
    tools: openaiTools,
  });
  const choice = r.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.ok(call.id.length > 0);
  assert.equal(call.function.name, 'get_weather');
  assert.equal(typeof call.function.arguments, 'string');  // OpenAI's arguments are a JSON string
  assert.deepEqual(JSON.parse(call.function.arguments), weatherArgs);
});

test('openai → anthropic: a streamed tool call, then its result back for a text answer', async () => {
  const ask = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const runner = openai.chat.completions.stream({ model: 'claude/tool/gap-2ms', messages: ask, tools: openaiTools });
  let argumentDeltas = 0;
  runner.on('chunk', (chunk) => {
    for (const tc of chunk.choices[0]?.delta?.tool_calls ?? []) if (tc.function?.arguments) argumentDeltas++;
  });
  const done = await runner.finalChatCompletion();
  const choice = done.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.ok(call.id.length > 0);
  assert.deepEqual(JSON.parse(call.function.arguments), weatherArgs);
  assert.ok(argumentDeltas >= 2, `the arguments came in ${argumentDeltas} delta(s), not streamed`);

  const conversation = [
    ...ask,
    { role: 'assistant', content: null, tool_calls: [call] },
    { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21 degrees.' },
  ];
  // With a tool result last, the `tool` model answers text.
  const answer = await openai.chat.completions.create({ model: 'claude/tool/len-5/seed-8', messages: conversation, tools: openaiTools });
  assert.equal(answer.choices[0].finish_reason, 'stop');
  assert.equal(answer.choices[0].message.content, await mockText('len-5/seed-8'));
  assert.equal(answer.choices[0].message.tool_calls ?? undefined, undefined);

  // What Anthropic received: the call as a tool_use block, the result as a tool_result block.
  const echoed = await openai.chat.completions.create({ model: 'claude/tool/echo', messages: conversation, tools: openaiTools });
  const sent = JSON.parse(echoed.choices[0].message.content);
  assert.equal(sent.model, 'tool/echo');
  assert.equal(sent.messages.length, 3);
  assert.equal(sent.messages[1].role, 'assistant');
  const use = sent.messages[1].content.find((b) => b.type === 'tool_use');
  assert.deepEqual(use, { type: 'tool_use', id: call.id, name: 'get_weather', input: weatherArgs });
  assert.equal(sent.messages[2].role, 'user');
  const result = sent.messages[2].content.find((b) => b.type === 'tool_result');
  assert.equal(result.tool_use_id, call.id);
  const resultText = typeof result.content === 'string' ? result.content : result.content.map((b) => b.text).join('');
  assert.equal(resultText, 'Sunny, 21 degrees.');
  assert.deepEqual(sent.tools, [{ name: 'get_weather', description: 'The forecast.', input_schema: weatherSchema }]);
});

test('openai → anthropic: response_format json_schema answers JSON text', async () => {
  const schema = {
    type: 'object',
    properties: { name: { type: 'string' }, age: { type: 'integer' }, member: { type: 'boolean' } },
    required: ['name', 'age', 'member'],
    additionalProperties: false,
  };
  const response_format = { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } };
  const want = { name: 'mock-name', age: 42, member: true };
  // The mock's `tool` behaviour fills the forced tool the schema reaches Anthropic as.
  const r = await openai.chat.completions.create({ model: 'claude/tool', messages, response_format });
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].message.tool_calls ?? undefined, undefined);
  assert.deepEqual(JSON.parse(r.choices[0].message.content), want);

  const runner = openai.chat.completions.stream({ model: 'claude/tool/gap-1ms', messages, response_format });
  const done = await runner.finalChatCompletion();
  assert.equal(done.choices[0].finish_reason, 'stop');
  assert.deepEqual(JSON.parse(done.choices[0].message.content), want);
});

test('openai → anthropic: reasoning_effort becomes a thinking budget, without sampling parameters', async () => {
  for (const [effort, budget, maxTokens] of [['low', 1024, 4096], ['high', 16384, 16384 + 4096]]) {
    const r = await openai.chat.completions.create({
      model: 'claude/echo',
      messages,
      reasoning_effort: effort,
      temperature: 0.5,
    });
    const sent = JSON.parse(r.choices[0].message.content);
    assert.deepEqual(sent.thinking, { type: 'enabled', budget_tokens: budget }, effort);
    assert.equal(sent.max_tokens, maxTokens, effort);
    assert.equal(sent.temperature, undefined, `${effort}: temperature sent while thinking`);
  }
  // Without reasoning: no thinking, and the temperature goes through.
  const plain = JSON.parse((await openai.chat.completions.create({ model: 'claude/echo', messages, temperature: 0.5 })).choices[0].message.content);
  assert.equal(plain.thinking, undefined);
  assert.equal(plain.temperature, 0.5);
});

test('openai → anthropic: a thinking answer exposes reasoning_content, whole and streamed', async () => {
  const want = await mockAnswer('think/len-4/seed-2');
  assert.ok(want.reasoning_content.length > 0);
  const r = await openai.chat.completions.create({ model: 'claude/think/len-4/seed-2', messages, reasoning_effort: 'low' });
  const m = r.choices[0].message;
  assert.equal(m.content, want.content);
  assert.equal(m.reasoning_content, want.reasoning_content);
  assert.equal(m.thinking_blocks.length, 1);
  assert.equal(m.thinking_blocks[0].type, 'thinking');
  assert.equal(m.thinking_blocks[0].thinking, want.reasoning_content);
  assert.match(m.thinking_blocks[0].signature, /^Eq/);  // Anthropic's signature, kept for the next turn
  assert.equal(r.usage.completion_tokens, 16 + 4);

  const stream = await openai.chat.completions.create({
    model: 'claude/think/len-4/seed-2',
    messages,
    reasoning_effort: 'low',
    stream: true,
  });
  let reasoning = '';
  let text = '';
  let textBeforeReasoningEnded = false;
  for await (const chunk of stream) {
    const d = chunk.choices[0]?.delta ?? {};
    if (d.reasoning_content) {
      if (text) textBeforeReasoningEnded = true;
      reasoning += d.reasoning_content;
    }
    if (d.content) text += d.content;
  }
  assert.equal(reasoning, want.reasoning_content);
  assert.equal(text, want.content);
  assert.ok(!textBeforeReasoningEnded, 'reasoning after the text began');
});

test('openai → anthropic: a 429 with retry-after is a RateLimitError', async () => {
  await assert.rejects(
    openai.chat.completions.create({ model: 'claude/status-429/retry-after-7s', messages }),
    (err) => {
      assert.ok(err instanceof OpenAI.RateLimitError, `${err.constructor.name}: ${err.message}`);
      assert.equal(err.status, 429);
      assert.equal(err.headers.get('retry-after'), '7');
      assert.match(err.message, /per-minute rate limit/);  // the provider's own message
      return true;
    },
  );
});

// ---- the openai SDK → a Gemini model ----------------------------------------------------------

test('openai → gemini: a plain completion', async () => {
  const { data, response } = await openai.chat.completions.create({ model: 'gem/len-6/seed-21', messages }).withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices[0].message.role, 'assistant');
  assert.equal(data.choices[0].message.content, await mockText('len-6/seed-21'));
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.equal(data.usage.prompt_tokens, 2);
  assert.equal(data.usage.completion_tokens, 6);
  assert.equal(data.usage.total_tokens, 8);
  assert.equal(response.headers.get('x-switchyard-provider'), 'gem');

  const cached = await openai.chat.completions.create({ model: 'gem/len-2/cached-4', messages: sevenWords });
  assert.equal(cached.usage.prompt_tokens, 7);
  assert.equal(cached.usage.prompt_tokens_details.cached_tokens, 4);
});

test('openai → gemini: a stream assembles to the whole answer, with a usage chunk', async () => {
  const whole = await openai.chat.completions.create({ model: 'gem/len-8/seed-22', messages });
  const stream = await openai.chat.completions.create({
    model: 'gem/len-8/seed-22/gap-2ms',
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish;
  let usage;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(text, await mockText('len-8/seed-22'));
  assert.equal(finish, 'stop');
  assert.ok(usage, 'no usage chunk');
  assert.equal(usage.prompt_tokens, 2);
  assert.equal(usage.completion_tokens, 8);
});

test('openai → gemini: tool calls, whole and streamed, and the result back', async () => {
  const ask = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const r = await openai.chat.completions.create({ model: 'gem/tool', messages: ask, tools: openaiTools });
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  const call = r.choices[0].message.tool_calls[0];
  assert.equal(r.choices[0].message.tool_calls.length, 1);
  assert.equal(call.type, 'function');
  assert.ok(call.id.length > 0);
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), weatherArgs);

  const done = await openai.chat.completions.stream({ model: 'gem/tool', messages: ask, tools: openaiTools }).finalChatCompletion();
  assert.equal(done.choices[0].finish_reason, 'tool_calls');
  assert.equal(done.choices[0].message.tool_calls.length, 1);
  assert.equal(done.choices[0].message.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(done.choices[0].message.tool_calls[0].function.arguments), weatherArgs);

  const answer = await openai.chat.completions.create({
    model: 'gem/tool/len-4/seed-23',
    messages: [
      ...ask,
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21 degrees.' },
    ],
    tools: openaiTools,
  });
  assert.equal(answer.choices[0].finish_reason, 'stop');
  assert.equal(answer.choices[0].message.content, await mockText('len-4/seed-23'));
});

// ---- the Anthropic SDK → an OpenAI-protocol model ---------------------------------------------

test('anthropic → openai: a plain message', async () => {
  const { data, response } = await anthropic.messages
    .create({ model: 'mock/len-5/seed-31', max_tokens: 64, messages })
    .withResponse();
  assert.equal(data.type, 'message');
  assert.equal(data.role, 'assistant');
  assert.equal(data.content.length, 1);
  assert.equal(data.content[0].type, 'text');
  assert.equal(data.content[0].text, await mockText('len-5/seed-31'));
  assert.equal(data.stop_reason, 'end_turn');
  assert.equal(data.usage.input_tokens, 2);
  assert.equal(data.usage.output_tokens, 5);
  assert.equal(response.headers.get('x-switchyard-provider'), 'mock');
});

test('anthropic → openai: max_tokens cuts the answer: stop_reason max_tokens', async () => {
  const r = await anthropic.messages.create({ model: 'mock/len-9/seed-32', max_tokens: 3, messages });
  assert.equal(r.stop_reason, 'max_tokens');
  assert.equal(r.usage.output_tokens, 3);
  assert.equal(r.content[0].text, await mockText('len-3/seed-32'));
});

test('anthropic → openai: messages.stream() assembles to the whole message', async () => {
  const whole = await anthropic.messages.create({ model: 'mock/len-6/seed-33', max_tokens: 64, messages });
  const stream = anthropic.messages.stream({ model: 'mock/len-6/seed-33/gap-2ms', max_tokens: 64, messages });
  let text = '';
  const types = [];
  stream.on('text', (t) => { text += t; });
  stream.on('streamEvent', (e) => types.push(e.type));
  const final = await stream.finalMessage();
  assert.deepEqual(final.content, whole.content);
  assert.equal(text, whole.content[0].text);
  assert.equal(text, await mockText('len-6/seed-33'));
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.usage.output_tokens, 6);
  assert.equal(types[0], 'message_start');
  assert.equal(types.at(-1), 'message_stop');
  assert.equal(types.filter((t) => t === 'content_block_delta').length, 6);
});

test('anthropic → openai: a tool_use block, whole and streamed, and the tool_result back', async () => {
  const ask = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const r = await anthropic.messages.create({ model: 'mock/tool', max_tokens: 256, messages: ask, tools: anthropicTools });
  assert.equal(r.stop_reason, 'tool_use');
  const use = r.content.find((b) => b.type === 'tool_use');
  assert.ok(use, JSON.stringify(r.content));
  assert.equal(use.name, 'get_weather');
  assert.ok(use.id.length > 0);
  assert.deepEqual(use.input, weatherArgs);  // an object, not OpenAI's JSON string

  const stream = anthropic.messages.stream({ model: 'mock/tool/gap-2ms', max_tokens: 256, messages: ask, tools: anthropicTools });
  let jsonDeltas = 0;
  stream.on('inputJson', (partial) => { if (partial) jsonDeltas++; });
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const streamed = final.content.find((b) => b.type === 'tool_use');
  assert.ok(streamed, JSON.stringify(final.content));
  assert.equal(streamed.name, 'get_weather');
  assert.deepEqual(streamed.input, weatherArgs);
  assert.ok(jsonDeltas >= 2, `the input came in ${jsonDeltas} input_json_delta(s), not streamed`);

  const answer = await anthropic.messages.create({
    model: 'mock/tool/len-4/seed-34',
    max_tokens: 256,
    tools: anthropicTools,
    messages: [
      ...ask,
      { role: 'assistant', content: r.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'Sunny, 21 degrees.' }] },
    ],
  });
  assert.equal(answer.stop_reason, 'end_turn');
  assert.deepEqual(answer.content.map((b) => b.type), ['text']);
  assert.equal(answer.content[0].text, await mockText('len-4/seed-34'));
});

test('anthropic → openai: a reasoning answer has a thinking block, whole and streamed', async () => {
  const want = await mockAnswer('think/len-3/seed-6');
  const thinking = { type: 'enabled', budget_tokens: 2048 };
  const r = await anthropic.messages.create({ model: 'mock/think/len-3/seed-6', max_tokens: 4096, messages, thinking });
  assert.deepEqual(r.content.map((b) => b.type), ['thinking', 'text']);
  assert.equal(r.content[0].thinking, want.reasoning_content);
  assert.equal(r.content[1].text, want.content);
  assert.equal(r.usage.output_tokens, 16 + 3);

  const final = await anthropic.messages
    .stream({ model: 'mock/think/len-3/seed-6/gap-1ms', max_tokens: 4096, messages, thinking })
    .finalMessage();
  assert.deepEqual(final.content.map((b) => b.type), ['thinking', 'text']);
  assert.equal(final.content[0].thinking, want.reasoning_content);
  assert.equal(final.content[1].text, want.content);
});

test('anthropic → openai: a provider 500 is an InternalServerError', async () => {
  await assert.rejects(anthropic.messages.create({ model: 'mock/status-500', max_tokens: 16, messages }), (e) => {
    assert.ok(e instanceof Anthropic.InternalServerError, `${e.constructor.name}: ${e.message}`);
    assert.equal(e.status, 500);
    assert.equal(e.error.type, 'error');
    assert.equal(e.error.error.type, 'api_error');
    assert.match(e.error.error.message, /The server had an error while processing your request/);  // the provider's message
    return true;
  });
});

test('anthropic: countTokens is the provider\'s count for Anthropic, an estimate otherwise', async () => {
  // The mock counts words: 7.
  const { data: counted, response: r1 } = await anthropic.messages
    .countTokens({ model: 'claude/len-1', messages: sevenWords })
    .withResponse();
  assert.deepEqual(counted, { input_tokens: 7 });
  assert.equal(r1.headers.get('x-switchyard-token-count'), null);

  const { data: estimated, response: r2 } = await anthropic.messages
    .countTokens({ model: 'mock/len-1', messages: sevenWords })
    .withResponse();
  assert.ok(Number.isInteger(estimated.input_tokens) && estimated.input_tokens > 0, JSON.stringify(estimated));
  assert.equal(r2.headers.get('x-switchyard-token-count'), 'estimate');
  assert.equal(r2.headers.get('x-switchyard-model'), 'mock/len-1');
});

// ---- the Anthropic SDK → a Gemini model -------------------------------------------------------

test('anthropic → gemini: a plain message and a stream', async () => {
  const want = await mockText('len-5/seed-41');
  const r = await anthropic.messages.create({ model: 'gem/len-5/seed-41', max_tokens: 64, messages });
  assert.equal(r.type, 'message');
  assert.equal(r.content.length, 1);
  assert.equal(r.content[0].type, 'text');
  assert.equal(r.content[0].text, want);
  assert.equal(r.stop_reason, 'end_turn');
  assert.equal(r.usage.input_tokens, 2);
  assert.equal(r.usage.output_tokens, 5);

  const stream = anthropic.messages.stream({ model: 'gem/len-5/seed-41/gap-2ms', max_tokens: 64, messages });
  let text = '';
  stream.on('text', (t) => { text += t; });
  const final = await stream.finalMessage();
  assert.equal(text, want);
  assert.deepEqual(final.content, r.content);
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.usage.output_tokens, 5);
});

// ---- Anthropic's model list -------------------------------------------------------------------

test('anthropic: models.list() lists the configured models', async () => {
  const ids = [];
  for await (const m of anthropic.models.list()) {
    assert.equal(m.type, 'model');
    ids.push(m.id);
  }
  assert.equal(new Set(ids).size, ids.length, 'an id listed twice');
  // The demo provider's models and the shipped catalog's under the anthropic and gemini providers.
  for (const id of ['demo/fast', 'demo/smart', 'demo/cheap', 'claude/claude-haiku-4-5', 'gem/gemini-2.5-flash']) {
    assert.ok(ids.includes(id), `${id} not in ${ids.length} ids`);
  }
  // The same models as the OpenAI-shaped list.
  const openaiIds = [];
  for await (const m of openai.models.list()) openaiIds.push(m.id);
  assert.deepEqual([...ids].sort(), [...openaiIds].sort());
});

// ---- the Vercel AI SDK (OpenAI-compatible provider) -------------------------------------------

function vercel() {
  return createOpenAICompatible({ baseURL: stack.baseURL, apiKey: 'unused-by-the-gateway', name: 'switchyard', includeUsage: true });
}

for (const [label, provider] of [['an Anthropic model', 'claude'], ['the OpenAI-protocol model', 'mock']]) {
  test(`ai sdk: streamText and generateText agree on ${label}`, async () => {
    const sy = vercel();
    const model = `${provider}/len-8/seed-51`;
    const whole = await generateText({ model: sy(model), prompt: 'Say something.', maxRetries: 0 });
    let streamError;
    const result = streamText({
      model: sy(`${model}/gap-2ms`),
      prompt: 'Say something.',
      maxRetries: 0,
      onError: ({ error }) => { streamError = error; },
    });
    let text = '';
    for await (const t of result.textStream) text += t;
    assert.equal(streamError, undefined, String(streamError));
    const want = await mockText('len-8/seed-51');
    assert.equal(whole.text, want);
    assert.equal(text, want);
    assert.equal(whole.finishReason, 'stop');
    assert.equal(await result.finishReason, 'stop');
    for (const usage of [whole.usage, await result.usage]) {
      assert.equal(usage.inputTokens, 2);
      assert.equal(usage.outputTokens, 8);
      assert.equal(usage.totalTokens, 10);
    }
  });
}

test('ai sdk: generateText with a tool on an Anthropic model', async () => {
  const sy = vercel();
  const inputSchema = z.object({ city: z.string(), days: z.number().int(), metric: z.boolean() });
  // Without execute the call is the result.
  const r = await generateText({
    model: sy('claude/tool'),
    prompt: 'What is the weather in Paris?',
    tools: { get_weather: tool({ description: 'The forecast.', inputSchema }) },
    maxRetries: 0,
  });
  assert.equal(r.finishReason, 'tool-calls');
  assert.equal(r.toolCalls.length, 1);
  assert.equal(r.toolCalls[0].toolName, 'get_weather');
  assert.deepEqual(r.toolCalls[0].input, weatherArgs);

  // With execute, the SDK sends the result back and the model answers text.
  const seen = [];
  const loop = await generateText({
    model: sy('claude/tool/len-3/seed-52'),
    prompt: 'What is the weather in Paris?',
    tools: {
      get_weather: tool({
        description: 'The forecast.',
        inputSchema,
        execute: async (input) => { seen.push(input); return 'Sunny, 21 degrees.'; },
      }),
    },
    stopWhen: stepCountIs(3),
    maxRetries: 0,
  });
  assert.deepEqual(seen, [weatherArgs]);
  assert.equal(loop.steps.length, 2);
  assert.equal(loop.finishReason, 'stop');
  assert.equal(loop.text, await mockText('len-3/seed-52'));
});
