// The mock upstream's tool calls, reasoning and cached tokens in the OpenAI and Anthropic
// protocols (read by the official SDKs) and its Gemini protocol (read with plain fetch, as
// Google documents the REST API), against the mock alone: the gateway's providers are tested
// against this mock, so it must speak each protocol exactly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { BINARY } from './harness.mjs';

const KEY = 'sk-e2e';
let mock;
let base;
let openai;
let anthropic;

before(async () => {
  mock = spawn(BINARY, ['mock-upstream', '--port', '0', '--api-key', KEY], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    mock.on('exit', (code) => reject(new Error(`mock-upstream exited with ${code}: ${out}`)));
    mock.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
  });
  mock.removeAllListeners('exit');
  mock.stdout.resume();
  base = `http://127.0.0.1:${port}`;
  openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: base, apiKey: KEY, maxRetries: 0 });
});
after(async () => {
  if (!mock || mock.exitCode !== null) return;
  const exited = new Promise((r) => mock.once('exit', r));
  mock.kill('SIGTERM');
  await exited;
});

const question = 'What is the weather in Paris?';
const weatherSchema = {
  type: 'object',
  properties: { city: { type: 'string' }, days: { type: 'integer' }, metric: { type: 'boolean' } },
};
const expectedArgs = { city: 'mock-city', days: 42, metric: true };
const openaiTools = [
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
  { type: 'function', function: { name: 'get_weather', parameters: weatherSchema } },
];
const anthropicTools = [{ name: 'get_weather', description: 'Weather by city', input_schema: weatherSchema }];

// ---- OpenAI ------------------------------------------------------------------------------

test('openai: a streamed tool call assembles into the forced tool and its arguments', async () => {
  const stream = await openai.chat.completions.create({
    model: 'tool/gap-1ms',
    messages: [{ role: 'user', content: question }],
    tools: openaiTools,
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    stream: true,
  });
  let args = '';
  let name = '';
  let id = '';
  let finish = null;
  let argumentDeltas = 0;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    for (const call of choice.delta.tool_calls ?? []) {
      assert.equal(call.index, 0);
      if (call.id) id = call.id;
      if (call.function?.name) name = call.function.name;
      if (call.function?.arguments) {
        args += call.function.arguments;
        argumentDeltas++;
      }
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  assert.match(id, /^call_/);
  assert.equal(name, 'get_weather');
  assert.ok(argumentDeltas >= 3, `arguments in ${argumentDeltas} deltas`);
  assert.deepEqual(JSON.parse(args), expectedArgs);
  assert.equal(finish, 'tool_calls');

  // The SDK's stream helper assembles the same call.
  const final = await openai.chat.completions
    .stream({ model: 'tool/gap-1ms', messages: [{ role: 'user', content: question }], tools: openaiTools })
    .finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'get_time');  // no forced choice: the first tool
  assert.deepEqual(JSON.parse(call.function.arguments), {});
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
});

test('openai: a tool loop ends with text once the last message is a tool result', async () => {
  const first = await openai.chat.completions.create({
    model: 'tool/len-4',
    messages: [{ role: 'user', content: question }],
    tools: openaiTools.slice(1),
  });
  const message = first.choices[0].message;
  assert.equal(message.content, null);
  assert.equal(first.choices[0].finish_reason, 'tool_calls');
  assert.deepEqual(JSON.parse(message.tool_calls[0].function.arguments), expectedArgs);
  const second = await openai.chat.completions.create({
    model: 'tool/len-4',
    messages: [
      { role: 'user', content: question },
      message,
      { role: 'tool', tool_call_id: message.tool_calls[0].id, content: 'Sunny, 24 degrees.' },
    ],
    tools: openaiTools.slice(1),
  });
  assert.equal(second.choices[0].finish_reason, 'stop');
  assert.equal(second.choices[0].message.content.trim().split(' ').length, 4);
});

test('openai: reasoning_content before the content, counted in usage; cached prompt tokens', async () => {
  const stream = await openai.chat.completions.create({
    model: 'think-5/len-3/cached-2/gap-1ms',
    messages: [{ role: 'user', content: question }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const order = [];
  let reasoning = '';
  let content = '';
  let usage;
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta ?? {};
    if (delta.reasoning_content) {
      reasoning += delta.reasoning_content;
      order.push('r');
    }
    if (delta.content) {
      content += delta.content;
      order.push('c');
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(order.join(''), 'rrrrrccc');
  assert.equal(reasoning.trim().split(' ').length, 5);
  assert.equal(usage.completion_tokens, 8);
  assert.equal(usage.completion_tokens_details.reasoning_tokens, 5);
  assert.equal(usage.prompt_tokens, 6);  // the words of the prompt
  assert.equal(usage.prompt_tokens_details.cached_tokens, 2);

  const plain = await openai.chat.completions.create({ model: 'think-5/len-3', messages: [{ role: 'user', content: question }] });
  assert.equal(plain.choices[0].message.reasoning_content, reasoning);
  assert.equal(plain.choices[0].message.content, content);
});

test('openai: max_tokens cuts the answer with finish_reason length', async () => {
  const r = await openai.chat.completions.create({ model: 'len-10', max_tokens: 4, messages: [{ role: 'user', content: 'Hi' }] });
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 4);
});

// ---- Anthropic ---------------------------------------------------------------------------

test('anthropic: tool_use, plain and streamed', async () => {
  const params = { model: 'tool/gap-1ms', max_tokens: 256, messages: [{ role: 'user', content: question }], tools: anthropicTools };
  const plain = await anthropic.messages.create(params);
  assert.equal(plain.stop_reason, 'tool_use');
  assert.equal(plain.content.length, 1);
  assert.equal(plain.content[0].type, 'tool_use');
  assert.match(plain.content[0].id, /^toolu_/);
  assert.equal(plain.content[0].name, 'get_weather');
  assert.deepEqual(plain.content[0].input, expectedArgs);

  const stream = anthropic.messages.stream(params);
  const deltas = [];
  stream.on('streamEvent', (e) => {
    if (e.type === 'content_block_delta') deltas.push(e.delta.type);
  });
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  assert.equal(final.content[0].type, 'tool_use');
  assert.deepEqual(final.content[0].input, expectedArgs);
  assert.ok(deltas.length >= 3 && deltas.every((t) => t === 'input_json_delta'), deltas.join());
  assert.equal(final.usage.output_tokens, plain.usage.output_tokens);

  // A tool result as the last message: text, so the loop ends.
  const done = await anthropic.messages.create({
    ...params,
    messages: [
      { role: 'user', content: question },
      { role: 'assistant', content: plain.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: plain.content[0].id, content: 'Sunny.' }] },
    ],
  });
  assert.equal(done.stop_reason, 'end_turn');
  assert.equal(done.content[0].type, 'text');
});

test('anthropic: a thinking block with its signature, then the text', async () => {
  const params = { model: 'think-6/len-4/gap-1ms', max_tokens: 256, messages: [{ role: 'user', content: question }] };
  const plain = await anthropic.messages.create(params);
  assert.deepEqual(plain.content.map((b) => b.type), ['thinking', 'text']);
  assert.equal(plain.content[0].thinking.trim().split(' ').length, 6);
  assert.ok(plain.content[0].signature.length > 20);
  assert.equal(plain.usage.output_tokens, 10);

  const stream = anthropic.messages.stream(params);
  const deltas = [];
  stream.on('streamEvent', (e) => {
    if (e.type === 'content_block_delta') deltas.push(`${e.index}:${e.delta.type}`);
  });
  const final = await stream.finalMessage();
  assert.deepEqual(final.content, plain.content);
  assert.deepEqual(deltas, [
    ...Array(6).fill('0:thinking_delta'), '0:signature_delta', ...Array(4).fill('1:text_delta'),
  ]);
  assert.equal(final.usage.output_tokens, 10);
});

test('anthropic: cached input tokens and count_tokens', async () => {
  const params = { model: 'cached-4/len-2', max_tokens: 64, system: 'You are terse.', messages: [{ role: 'user', content: question }] };
  const r = await anthropic.messages.create(params);
  assert.equal(r.usage.cache_read_input_tokens, 4);
  assert.equal(r.usage.input_tokens, 9 - 4);  // input_tokens excludes what was read from the cache
  const { model, system, messages } = params;
  const counted = await anthropic.messages.countTokens({ model, system, messages });
  assert.deepEqual(counted, { input_tokens: 9 });
  const limited = await anthropic.messages.create({ ...params, max_tokens: 1 });
  assert.equal(limited.stop_reason, 'max_tokens');
});

// ---- Gemini ------------------------------------------------------------------------------

const geminiBody = {
  systemInstruction: { parts: [{ text: 'You are terse.' }] },
  contents: [{ role: 'user', parts: [{ text: question }] }],
};
const geminiTools = [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather', parameters: {
  type: 'OBJECT', properties: { city: { type: 'STRING' }, days: { type: 'INTEGER' }, metric: { type: 'BOOLEAN' } },
} }] }];

function gemini(model, method, body, { key = KEY, query = '', headers = {} } = {}) {
  const url = `${base}/v1beta/models/${encodeURIComponent(model)}:${method}${query}`;
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'x-goog-api-key': key } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

// The GenerateContentResponse chunks of an SSE stream, split by hand on Google's \r\n\r\n.
async function sseChunks(response) {
  const text = await response.text();
  assert.ok(text.endsWith('\r\n\r\n'), 'events end with CRLF CRLF');
  return text.split('\r\n\r\n').filter((e) => e.length > 0).map((e) => {
    assert.ok(e.startsWith('data: '), e);
    return JSON.parse(e.slice(6));
  });
}

test('gemini: generateContent', async () => {
  const r = await gemini('len-5/seed-3', 'generateContent', geminiBody);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  const body = await r.json();
  const candidate = body.candidates[0];
  assert.equal(candidate.content.role, 'model');
  assert.equal(candidate.content.parts[0].text.trim().split(' ').length, 5);
  assert.equal(candidate.finishReason, 'STOP');
  assert.equal(candidate.index, 0);
  assert.deepEqual(body.usageMetadata, { promptTokenCount: 9, candidatesTokenCount: 5, totalTokenCount: 14 });
  assert.equal(body.modelVersion, 'len-5/seed-3');
  assert.ok(body.responseId.length > 10);
});

test('gemini: streamGenerateContent?alt=sse', async () => {
  const r = await gemini('len-4/gap-1ms', 'streamGenerateContent', geminiBody, { query: '?alt=sse' });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/event-stream/);
  const chunks = await sseChunks(r);
  assert.equal(chunks.length, 4);
  const text = chunks.map((c) => c.candidates[0].content.parts.map((p) => p.text).join('')).join('');
  for (const c of chunks) assert.equal(c.candidates[0].content.role, 'model');
  for (const c of chunks.slice(0, -1)) assert.equal(c.candidates[0].finishReason, undefined);
  const last = chunks.at(-1);
  assert.equal(last.candidates[0].finishReason, 'STOP');
  assert.deepEqual(last.usageMetadata, { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 });
  assert.ok(chunks.every((c) => c.responseId === last.responseId && c.modelVersion === 'len-4/gap-1ms'));
  const plain = await (await gemini('len-4', 'generateContent', geminiBody)).json();
  assert.equal(text, plain.candidates[0].content.parts[0].text);

  // Without alt=sse Google streams one JSON array of the same responses.
  const array = await (await gemini('len-2', 'streamGenerateContent', geminiBody)).json();
  assert.equal(array.length, 2);
  assert.equal(array[1].candidates[0].finishReason, 'STOP');
});

test('gemini: a function call, whole, in one part', async () => {
  const body = { ...geminiBody, tools: geminiTools };
  const plain = await (await gemini('tool', 'generateContent', body)).json();
  assert.deepEqual(plain.candidates[0].content.parts, [{ functionCall: { name: 'get_weather', args: expectedArgs } }]);
  assert.equal(plain.candidates[0].finishReason, 'STOP');
  const chunks = await sseChunks(await gemini('tool', 'streamGenerateContent', body, { query: '?alt=sse' }));
  assert.equal(chunks.length, 1);
  assert.deepEqual(chunks[0].candidates[0].content.parts, plain.candidates[0].content.parts);
  // After the function's response: text.
  const answered = await (await gemini('tool/len-3', 'generateContent', {
    ...body,
    contents: [
      ...body.contents,
      { role: 'model', parts: plain.candidates[0].content.parts },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { result: 'sunny' } } }] },
    ],
  })).json();
  assert.equal(answered.candidates[0].content.parts[0].text.trim().split(' ').length, 3);
});

test('gemini: thoughts first, thoughtsTokenCount apart from the candidates', async () => {
  const plain = await (await gemini('think-4/len-3/cached-2', 'generateContent', geminiBody)).json();
  const [thought, answer] = plain.candidates[0].content.parts;
  assert.equal(thought.thought, true);
  assert.equal(thought.text.trim().split(' ').length, 4);
  assert.equal(answer.thought, undefined);
  assert.ok(answer.thoughtSignature.length > 20);
  assert.deepEqual(plain.usageMetadata, {
    promptTokenCount: 9, candidatesTokenCount: 3, totalTokenCount: 16, cachedContentTokenCount: 2, thoughtsTokenCount: 4,
  });
  const chunks = await sseChunks(await gemini('think-4/len-3/cached-2/gap-1ms', 'streamGenerateContent', geminiBody, { query: '?alt=sse' }));
  assert.deepEqual(chunks.map((c) => Boolean(c.candidates[0].content.parts[0].thought)), [true, true, true, true, false, false, false]);
  assert.deepEqual(chunks.at(-1).usageMetadata, plain.usageMetadata);
  const limited = await (await gemini('len-9', 'generateContent', { ...geminiBody, generationConfig: { maxOutputTokens: 2 } })).json();
  assert.equal(limited.candidates[0].finishReason, 'MAX_TOKENS');
  assert.equal(limited.usageMetadata.candidatesTokenCount, 2);
});

test('gemini: countTokens, and one conversation costs the same prompt tokens in every protocol', async () => {
  const counted = await (await gemini('x', 'countTokens', geminiBody)).json();
  assert.equal(counted.totalTokens, 9);
  const wrapped = await (await gemini('x', 'countTokens', { generateContentRequest: { model: 'models/x', ...geminiBody } })).json();
  assert.equal(wrapped.totalTokens, 9);
  const o = await openai.chat.completions.create({
    model: 'len-3',
    messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: [{ type: 'text', text: question }] }],
  });
  const a = await anthropic.messages.create({ model: 'len-3', max_tokens: 9, system: 'You are terse.', messages: [{ role: 'user', content: question }] });
  const g = await (await gemini('len-3', 'generateContent', geminiBody)).json();
  assert.equal(o.usage.prompt_tokens, 9);
  assert.equal(a.usage.input_tokens, 9);
  assert.equal(g.usageMetadata.promptTokenCount, 9);
  // The same words seed the same answer.
  assert.equal(o.choices[0].message.content, a.content[0].text);
  assert.equal(a.content[0].text, g.candidates[0].content.parts[0].text);
});

test('gemini: errors in Google shape, auth, echo', async () => {
  const expectError = async (response, code, status) => {
    assert.equal(response.status, code);
    const body = await response.json();
    assert.equal(body.error.code, code);
    assert.equal(body.error.status, status);
    assert.equal(typeof body.error.message, 'string');
    return body.error;
  };
  await expectError(await gemini('x', 'generateContent', geminiBody, { key: null }), 403, 'PERMISSION_DENIED');
  const invalid = await expectError(await gemini('x', 'generateContent', geminiBody, { key: 'wrong' }), 400, 'INVALID_ARGUMENT');
  assert.equal(invalid.details[0].reason, 'API_KEY_INVALID');
  await expectError(await gemini('x', 'generateContent', geminiBody, { key: null, headers: { authorization: 'Bearer nope' } }), 401, 'UNAUTHENTICATED');
  const byQuery = await gemini('len-1', 'generateContent', geminiBody, { key: null, query: `?key=${KEY}` });
  assert.equal(byQuery.status, 200);
  await expectError(await gemini('x', 'generateContent', '{"contents": ['), 400, 'INVALID_ARGUMENT');
  await expectError(await gemini('x', 'generateContent', {}), 400, 'INVALID_ARGUMENT');
  const limited = await expectError(await gemini('status-429/retry-after-7s', 'generateContent', geminiBody), 429, 'RESOURCE_EXHAUSTED');
  assert.equal(limited.details[0].retryDelay, '7s');
  await expectError(await gemini('status-503', 'generateContent', geminiBody), 503, 'UNAVAILABLE');
  await expectError(await gemini('status-504', 'generateContent', geminiBody), 504, 'DEADLINE_EXCEEDED');
  await expectError(await gemini('status-500', 'generateContent', geminiBody), 500, 'INTERNAL');
  await expectError(await gemini('x', 'embedContent', geminiBody), 404, 'NOT_FOUND');
  // Behaviours from x-mock-* headers, and echo: the request as received.
  const echoed = await (await gemini('len-1', 'generateContent', geminiBody, { headers: { 'x-mock-echo': '1' } })).json();
  assert.deepEqual(JSON.parse(echoed.candidates[0].content.parts[0].text), geminiBody);
});
