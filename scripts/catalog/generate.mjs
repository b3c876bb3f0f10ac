#!/usr/bin/env node
// Generates src/catalog/models.json, the gateway's own model catalog, from the public price
// list (LiteLLM's model_prices_and_context_window.json, MIT licence):
//
//   node scripts/catalog/generate.mjs ../shared/data/model_prices_and_context_window.json > src/catalog/models.json
//
// Chat models with per-token prices of the providers below; prices per million tokens; a dated
// snapshot with the same prices as its undated name becomes an alias of it.
import { readFileSync } from 'node:fs';

const [, , source] = process.argv;
if (!source) {
  console.error('usage: generate.mjs PATH/model_prices_and_context_window.json > src/catalog/models.json');
  process.exit(2);
}

// litellm_provider → [our provider name, prefix stripped from the key to get the upstream id]
const providers = {
  openai: ['openai', ''],
  anthropic: ['anthropic', ''],
  gemini: ['google', 'gemini/'],
  mistral: ['mistral', 'mistral/'],
  xai: ['xai', 'xai/'],
  deepseek: ['deepseek', 'deepseek/'],
  groq: ['groq', 'groq/'],
  cerebras: ['cerebras', 'cerebras/'],
  together_ai: ['together', 'together_ai/'],
  fireworks_ai: ['fireworks', 'fireworks_ai/'],
  openrouter: ['openrouter', 'openrouter/'],
  perplexity: ['perplexity', 'perplexity/'],
  ollama: ['ollama', 'ollama/'],
};

const perMillion = (x) => (typeof x === 'number' ? Math.round(x * 1e6 * 1e6) / 1e6 : undefined);
const data = JSON.parse(readFileSync(source, 'utf8'));
const byId = new Map();
for (const [key, m] of Object.entries(data)) {
  if (!m || typeof m !== 'object' || m.mode !== 'chat' || typeof m.input_cost_per_token !== 'number') continue;
  const p = providers[m.litellm_provider];
  if (!p) continue;
  const [provider, prefix] = p;
  if (key.startsWith('ft:')) continue; // fine-tunes are per account
  if (prefix && !key.startsWith(prefix)) {
    if (provider === 'together') continue; // size-tier price rows, not models
    if (key.includes('/')) continue;
  }
  const upstream = prefix && key.startsWith(prefix) ? key.slice(prefix.length) : key;
  if (!upstream || /\s/.test(upstream)) continue;
  const id = `${provider}/${upstream}`;
  if (byId.has(id)) continue;
  const caps = [];
  if (m.supports_function_calling) caps.push('tools');
  if (m.supports_vision) caps.push('vision');
  if (m.supports_audio_input || m.supports_audio_output) caps.push('audio');
  if (m.supports_reasoning) caps.push('reasoning');
  if (m.supports_prompt_caching) caps.push('caching');
  const model = {
    id,
    provider,
    upstream,
    input: perMillion(m.input_cost_per_token),
    output: perMillion(m.output_cost_per_token ?? 0),
  };
  if (m.cache_read_input_token_cost !== undefined) model.cache_read = perMillion(m.cache_read_input_token_cost);
  if (m.cache_creation_input_token_cost !== undefined) model.cache_write = perMillion(m.cache_creation_input_token_cost);
  const context = m.max_input_tokens ?? m.max_tokens;
  if (typeof context === 'number') model.context = context;
  if (typeof m.max_output_tokens === 'number') model.max_output = m.max_output_tokens;
  model.capabilities = caps;
  byId.set(id, model);
}

// Dated snapshots with their base's prices become aliases: claude-haiku-4-5-20251001 → claude-haiku-4-5.
const samePrices = (a, b) =>
  a.input === b.input && a.output === b.output && a.cache_read === b.cache_read && a.cache_write === b.cache_write;
for (const [id, m] of [...byId]) {
  const base = id.match(/^(.*?)-(\d{8}|\d{4}-\d{2}-\d{2})$/);
  if (!base) continue;
  const target = byId.get(base[1]);
  if (!target || !samePrices(target, m)) continue;
  (target.aliases ??= []).push(m.upstream);
  byId.delete(id);
}

const models = [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
const counts = {};
for (const m of models) counts[m.provider] = (counts[m.provider] ?? 0) + 1;
const out = {
  source: "LiteLLM's model_prices_and_context_window.json (MIT licence), snapshot of July 2026, from ../shared/data",
  generated_by: 'scripts/catalog/generate.mjs',
  units: 'USD per million tokens',
  providers: counts,
  models,
};
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
console.error(`catalog: ${models.length} models from ${Object.keys(counts).length} providers`);
