#!/usr/bin/env node
// Load benchmark for `jgemma serve` (or any Ollama-compatible server): C concurrent clients send N streaming
// /api/chat requests in all and report time to first token (p50/p99), per-request and aggregate generation speed.
// Node 18+ only (built-in fetch), no packages. A benchmark, not a test: run it on a quiet machine.
//
//   node tools/serve-bench.mjs --url http://127.0.0.1:11434 --model gemma3:1b [--concurrency 8] [--requests 32]
//        [--num-predict 64] [--prompt "Write a story about the sea"] [--json]
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']);
  return acc;
}, []));
const url = args.url || 'http://127.0.0.1:11434';
const model = args.model;
const concurrency = Number(args.concurrency || 8);
const total = Number(args.requests || 32);
const numPredict = Number(args['num-predict'] || 64);
const prompt = args.prompt || 'Write a story about the sea';
if (!model) { console.error('usage: serve-bench.mjs --model NAME [--url URL] [--concurrency C] [--requests N] [--num-predict T]'); process.exit(2); }

async function one(i) {
  const t0 = performance.now();
  const res = await fetch(url + '/api/chat', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: prompt + ' (' + i + ')' }],
      options: { temperature: 0, num_predict: numPredict } }),
  });
  if (!res.ok) throw new Error('HTTP ' + res.status + ': ' + await res.text());
  let ttft = null, last = null, buf = '';
  const dec = new TextDecoder();
  for await (const chunk of res.body) {
    buf += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
      if (!line) continue;
      const o = JSON.parse(line);
      if (o.error) throw new Error(o.error);
      if (ttft === null && !o.done) ttft = performance.now() - t0;
      if (o.done) last = o;
    }
  }
  return { ttft: ttft ?? performance.now() - t0, ms: performance.now() - t0, tokens: last.eval_count,
           tps: last.eval_count / (last.eval_duration / 1e9), promptTokens: last.prompt_eval_count };
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };
await one(-1); // load the model, warm up
const results = [];
let next = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < total) results.push(await one(next++));
}));
const wall = (performance.now() - t0) / 1000;
const tokens = results.reduce((a, r) => a + r.tokens, 0);
const summary = {
  model, concurrency, requests: total, num_predict: numPredict,
  ttft_ms_p50: +pct(results.map(r => r.ttft), 50).toFixed(1), ttft_ms_p99: +pct(results.map(r => r.ttft), 99).toFixed(1),
  request_ms_p50: +pct(results.map(r => r.ms), 50).toFixed(1),
  per_request_tokens_per_s_p50: +pct(results.map(r => r.tps), 50).toFixed(2),
  aggregate_tokens_per_s: +(tokens / wall).toFixed(2), generated_tokens: tokens, wall_s: +wall.toFixed(2),
};
if (args.json) console.log(JSON.stringify(summary));
else for (const [k, v] of Object.entries(summary)) console.log(k.padEnd(30) + v);
