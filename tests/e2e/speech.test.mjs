// Speech with the official `openai` SDK: `audio` on chat completions (whole and streamed) and
// client.audio.speech, spoken by the gateway's embedded espeak-ng engine. The audio is decoded
// and checked: 24 kHz mono 16-bit, about as long as its text, not silence.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack } from './harness.mjs';

let stack;
let client;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'unused-by-the-gateway', maxRetries: 0 });
});
after(() => stack?.stop());

const messages = [{ role: 'user', content: 'Say something.' }];

// The samples of a 16-bit PCM WAV file, with its format.
function readWav(buf) {
  assert.equal(buf.toString('ascii', 0, 4), 'RIFF');
  assert.equal(buf.toString('ascii', 8, 12), 'WAVE');
  let at = 12;
  let fmt;
  while (at + 8 <= buf.length) {
    const id = buf.toString('ascii', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    if (id === 'fmt ') {
      fmt = { channels: buf.readUInt16LE(at + 10), rate: buf.readUInt32LE(at + 12), bits: buf.readUInt16LE(at + 22) };
    } else if (id === 'data') {
      const end = size === 0xffffffff ? buf.length : Math.min(buf.length, at + 8 + size);
      return { ...fmt, samples: pcm(buf.subarray(at + 8, end)) };
    }
    at += 8 + size + (size % 2);
  }
  assert.fail('no data chunk');
}

function pcm(buf) {
  return new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length - (buf.length % 2)));
}

function expectSpeech(samples, text) {
  const seconds = samples.length / 24000;
  assert.ok(seconds > text.length / 40 && seconds < text.length / 5 + 1, `${seconds} s for ${text.length} characters`);
  let sum = 0;
  for (const s of samples) sum += s * s;
  assert.ok(Math.sqrt(sum / samples.length) > 300, 'not silence');
}

test('speech: a whole answer with its audio', async () => {
  const r = await client.chat.completions.create({
    model: 'mock/len-16/seed-4',
    modalities: ['text', 'audio'],
    audio: { voice: 'alloy', format: 'wav' },
    messages,
  });
  const message = r.choices[0].message;
  assert.match(message.audio.id, /^audio_/);
  assert.equal(message.audio.transcript, message.content);
  assert.ok(message.audio.expires_at > Date.now() / 1000);
  const wav = readWav(Buffer.from(message.audio.data, 'base64'));
  assert.equal(wav.rate, 24000);
  assert.equal(wav.channels, 1);
  assert.equal(wav.bits, 16);
  expectSpeech(wav.samples, message.content);
});

test('speech: a stream interleaves text and audio', async () => {
  const stream = await client.chat.completions.create({
    model: 'mock/len-30/seed-6/tps-100',
    stream: true,
    audio: { voice: 'nova', format: 'pcm16' },
    messages,
  });
  let text = '';
  let transcript = '';
  const audio = [];
  let finished = false;
  let audioAfterFinish = false;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.delta.content) text += choice.delta.content;
    const a = choice.delta.audio;
    if (a?.transcript) transcript += a.transcript;
    if (a?.data) {
      audio.push(Buffer.from(a.data, 'base64'));
      audioAfterFinish ||= finished;
    }
    if (choice.finish_reason) finished = true;
  }
  assert.equal(transcript, text);
  assert.equal(audioAfterFinish, false);
  expectSpeech(pcm(Buffer.concat(audio)), text);
});

test('speech: client.audio.speech, wav and pcm', async () => {
  const input = 'Text to speech through the gateway.';
  const wav = readWav(Buffer.from(await (await client.audio.speech.create({ model: 'espeak', voice: 'echo', input, response_format: 'wav' })).arrayBuffer()));
  assert.equal(wav.rate, 24000);
  expectSpeech(wav.samples, input);
  const raw = await client.audio.speech.create({ model: 'espeak', voice: 'echo', input, response_format: 'pcm' });
  assert.equal(raw.headers.get('content-type'), 'audio/pcm');
  expectSpeech(pcm(Buffer.from(await raw.arrayBuffer())), input);
});

test('speech: an unknown voice is a clear 400', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'mock/len-3', audio: { voice: 'bob', format: 'wav' }, messages }),
    (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.param, 'audio.voice');
      assert.match(e.message, /alloy/);
      return true;
    },
  );
});
