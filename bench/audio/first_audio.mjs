// Streams spoken chat completions through the gateway and measures, at the client, the time from
// the text chunk that ends the answer's first sentence to the first chunk of audio.
//   node first_audio.mjs <gateway base URL> <model> <requests>
// Prints one JSON line: the first sentence (for the direct baseline) and the gap's p50/p90 (ms).
// A raw socket (node:net), read as bytes: fetch's stream machinery adds milliseconds of its own
// to the tail, which is not the gateway's.
import net from 'node:net';

const [base, model, count] = [new URL(process.argv[2]), process.argv[3], Number(process.argv[4] ?? 50)];
const body = JSON.stringify({ model, stream: true, audio: { voice: 'nova', format: 'pcm16' }, messages: [{ role: 'user', content: 'Talk.' }] });
const request = `POST ${base.pathname.replace(/\/$/, '')}/chat/completions HTTP/1.1\r\nhost: ${base.host}\r\n` +
  `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const sentenceEnd = /"content":"[^"]*[.!?]"/;

function once() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: base.hostname, port: Number(base.port), noDelay: true });
    let text = '';
    let sentenceAt = null;
    socket.on('connect', () => socket.write(request));
    socket.on('data', (piece) => {
      const now = performance.now();
      text += piece.toString('latin1');
      if (sentenceAt === null && sentenceEnd.test(text)) sentenceAt = now;
      if (sentenceAt !== null && text.includes('"data":"')) {
        socket.destroy();
        // The first sentence, from the content deltas before it ended.
        const words = [...text.matchAll(/"content":"([^"]*)"/g)].map((m) => m[1]).join('');
        resolve({ gap: now - sentenceAt, sentence: words.slice(0, words.search(/[.!?]/) + 1).trim() });
      }
    });
    socket.on('error', reject);
    socket.on('end', () => reject(new Error(`the stream ended without audio: ${text.slice(0, 300)}`)));
  });
}

for (let i = 0; i < 10; ++i) await once();  // warm-up: connections, caches, the JIT
const gaps = [];
let sentence = '';
for (let i = 0; i < count; ++i) {
  const r = await once();
  gaps.push(r.gap);
  sentence = r.sentence;
}
gaps.sort((a, b) => a - b);
const q = (p) => gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))];
console.log(JSON.stringify({ requests: count, sentence, gap_ms_p50: +q(0.5).toFixed(3), gap_ms_p90: +q(0.9).toFixed(3) }));
