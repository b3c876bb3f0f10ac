// Routers through the official `openai` SDK: `model: 'switchyard/<router>'` picks a route and a
// variant from metadata, the user, extra body fields and slash commands, and says so in headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack } from './harness.mjs';

const ROUTER = 'sdk-router';
const MODEL = `switchyard/${ROUTER}`;

let stack;
let client;
let sentBodies = []; // the JSON bodies the SDK put on the wire, newest last

before(async () => {
  stack = await startStack();
  client = new OpenAI({
    baseURL: stack.baseURL,
    apiKey: 'unused-by-the-gateway',
    maxRetries: 0,
    fetch: (url, init) => {
      if (typeof init?.body === 'string') sentBodies.push(JSON.parse(init.body));
      return fetch(url, init);
    },
  });
  const r = await fetch(stack.routersURL, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: ROUTER,
      displayName: 'SDK router',
      routes: [
        {
          name: 'spanish',
          condition: { cel_expression: "language == 'es'" },
          route: { variants: [{ variant: { modelId: 'mock/echo', name: 'echo' }, weight: 100 }] },
        },
        {
          name: 'free',
          condition: { cel_expression: "plan == 'free'" },
          route: {
            variants: [
              { variant: { modelId: 'mock/len-3/seed-1', name: 'a' }, weight: 50 },
              { variant: { modelId: 'mock/len-3/seed-2', name: 'b' }, weight: 50 },
            ],
          },
        },
        {
          name: 'coding',
          condition: { cel_expression: 'false' }, // only by its slash command
          route: { variants: [{ variant: { modelId: 'mock/echo', name: 'coder' }, weight: 100 }] },
        },
      ],
      defaultRoute: { variants: [{ variant: { modelId: 'mock/len-2' }, weight: 100 }] },
      slashCommands: [{ command: '/code', route: 'coding' }],
    }),
  });
  assert.equal(r.status, 201, await r.text());
});
after(() => stack?.stop());

const messages = [{ role: 'user', content: 'Say something.' }];

test('the admin API refuses requests without the admin key', async () => {
  const r = await fetch(stack.routersURL);
  assert.equal(r.status, 401);
  const ok = await fetch(`${stack.routersURL}/${ROUTER}`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('etag'), '"1"');
});

test('metadata picks the route; the same user keeps the same variant', async () => {
  const ask = () =>
    client.chat.completions
      .create({ model: MODEL, messages, metadata: { plan: 'free' }, user: 'u-1' }, { headers: { 'x-switchyard-explain': '1' } })
      .withResponse();
  const { data, response } = await ask();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.usage.completion_tokens, 3);
  assert.equal(response.headers.get('x-switchyard-router'), ROUTER);
  assert.equal(response.headers.get('x-switchyard-router-version'), '1');
  assert.equal(response.headers.get('x-switchyard-route'), 'free');
  const variant = response.headers.get('x-switchyard-variant');
  assert.ok(variant === 'a' || variant === 'b', variant);
  assert.equal(response.headers.get('x-switchyard-model'), variant === 'a' ? 'mock/len-3/seed-1' : 'mock/len-3/seed-2');
  assert.match(response.headers.get('x-switchyard-routing-reason'), /'free' matched: plan == 'free'.* by user/);
  for (let i = 0; i < 5; i++) {
    const again = await ask();
    assert.equal(again.response.headers.get('x-switchyard-variant'), variant);
    assert.equal(again.response.headers.get('x-switchyard-model'), response.headers.get('x-switchyard-model'));
  }
  // Without the metadata: the default route.
  const plain = await client.chat.completions.create({ model: MODEL, messages }).withResponse();
  assert.equal(plain.response.headers.get('x-switchyard-route'), 'default');
  assert.equal(plain.response.headers.get('x-switchyard-model'), 'mock/len-2');
  assert.equal(plain.response.headers.get('x-switchyard-routing-reason'), null); // only when asked
});

test('an extra body field routes the request and is not forwarded', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: MODEL, messages: [{ role: 'user', content: 'hola' }], language: 'es' })
    .withResponse();
  // The SDK sent the unknown parameter as a top-level body field.
  assert.equal(sentBodies.at(-1).language, 'es');
  assert.equal(response.headers.get('x-switchyard-route'), 'spanish');
  assert.equal(response.headers.get('x-switchyard-variant'), 'echo');
  assert.equal(response.headers.get('x-switchyard-model'), 'mock/echo');
  // The echo model answers with the body it received: the spliced model, no `language`.
  const received = JSON.parse(data.choices[0].message.content);
  assert.equal(received.model, 'echo');
  assert.equal('language' in received, false, data.choices[0].message.content);
  assert.deepEqual(received.messages, [{ role: 'user', content: 'hola' }]);
});

test('streaming through the router', async () => {
  const { data: stream, response } = await client.chat.completions
    .create({ model: MODEL, messages, metadata: { plan: 'free' }, user: 'u-1', stream: true })
    .withResponse();
  assert.equal(response.headers.get('x-switchyard-route'), 'free');
  assert.match(response.headers.get('x-switchyard-model'), /^mock\/len-3\/seed-[12]$/);
  let chunks = 0;
  let text = '';
  let finish;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.choices[0]?.delta?.content) text += chunk.choices[0].delta.content;
    if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
  }
  assert.equal(chunks, 5); // role, 3 deltas, finish
  assert.equal(text.split(' ').length, 3);
  assert.equal(finish, 'stop');
});

test('a slash command picks its route and is stripped', async () => {
  const { data, response } = await client.chat.completions
    .create({
      model: MODEL,
      messages: [
        { role: 'user', content: 'earlier' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: '/code write a sort' },
      ],
      metadata: { plan: 'free' }, // the command wins over conditions
    })
    .withResponse();
  assert.equal(response.headers.get('x-switchyard-route'), 'coding');
  assert.equal(response.headers.get('x-switchyard-variant'), 'coder');
  const received = JSON.parse(data.choices[0].message.content);
  assert.equal(received.model, 'echo');
  assert.equal(received.messages.at(-1).content, 'write a sort');
  assert.equal(received.messages[0].content, 'earlier');
});

test('the router is listed as a model', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.ok(ids.includes(MODEL), ids.join(', '));
  assert.ok(ids.includes('demo/fast'));
});
