// The official `openai` npm package against jgemma serve's /v1. Prints one JSON object of what the client got.
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.JGEMMA_URL + '/v1', apiKey: 'unused', maxRetries: 0 });
const model = process.env.MODEL;
const out = {};

out.models = (await client.models.list()).data.map(m => m.id);
const messages = [{ role: 'user', content: 'Tell me about the sea' }];
const chat = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 10 });
out.chat = chat.choices[0].message.content;
out.finishReason = chat.choices[0].finish_reason;
out.usage = chat.usage;

const stream = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 10, stream: true,
  stream_options: { include_usage: true } });
let s = '';
for await (const chunk of stream) {
  if (chunk.choices.length) s += chunk.choices[0].delta.content ?? '';
  if (chunk.usage) out.streamUsage = chunk.usage;
}
out.chatStream = s;

const comp = await client.completions.create({ model, prompt: 'Once upon a time', temperature: 0, max_tokens: 8 });
out.completion = comp.choices[0].text;

try {
  await client.chat.completions.create({ model: 'gpt-4o', messages });
  out.error = 'no error';
} catch (e) {
  out.error = { status: e.status, message: e.error?.message ?? e.message, code: e.code, type: e.type };
}
console.log(JSON.stringify(out));
