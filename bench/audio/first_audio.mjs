// Streams spoken chat completions through the gateway and measures, at the client, the time from
// the text chunk that ends the answer's first sentence to the first chunk of audio.
//   node first_audio.mjs <gateway base URL> <model> <requests>
// Prints one JSON line: the first sentence (for the direct baseline) and the gap's p50/p90 (ms).
const [base, model, count] = [process.argv[2], process.argv[3], Number(process.argv[4] ?? 50)];

async function once() {
  const started = performance.now();
  const res = await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, audio: { voice: 'nova', format: 'pcm16' }, messages: [{ role: 'user', content: 'Talk.' }] }),
  });
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffered = '';
  let text = '';
  let sentenceAt = null;
  let sentence = null;
  let audioAt = null;
  for await (const piece of res.body) {
    const now = performance.now();
    buffered += decoder.decode(piece, { stream: true });
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = event.startsWith('data: ') ? event.slice(6) : '';
      if (!data || data === '[DONE]') continue;
      const delta = JSON.parse(data).choices?.[0]?.delta ?? {};
      if (delta.content) {
        text += delta.content;
        if (sentenceAt === null && /[.!?]/.test(delta.content)) {
          sentenceAt = now;
          sentence = text.slice(0, text.search(/[.!?]/) + 1).trim();
        }
      }
      if (delta.audio?.data && audioAt === null) audioAt = now;
    }
  }
  return { gap: audioAt - sentenceAt, sentence, ttft: sentenceAt - started };
}

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
