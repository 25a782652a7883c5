// The official `ollama` npm package against jgemma serve. Prints one JSON object of what the client got;
// engine-server's NodeClientsTest compares it with the engine's greedy text (= `jgemma run`).
import { Ollama } from 'ollama';

const host = process.env.JGEMMA_URL;
const model = process.env.MODEL;
const ollama = new Ollama({ host });
const out = {};
const options = { temperature: 0, num_predict: 10 };

out.list = (await ollama.list()).models.map(m => m.name);
out.version = (await ollama.version()).version;
const show = await ollama.show({ model });
out.family = show.details.family;

const chat = await ollama.chat({ model, messages: [{ role: 'user', content: 'Tell me about the sea' }], options });
out.chat = chat.message.content;
out.chatDoneReason = chat.done_reason;
out.chatEvalCount = chat.eval_count;
out.chatDurationsAreNanos = chat.eval_duration > 1000 && chat.total_duration >= chat.eval_duration;

let s = '';
let parts = 0;
for await (const part of await ollama.chat({ model, messages: [{ role: 'user', content: 'Tell me about the sea' }], options, stream: true })) {
  s += part.message.content;
  parts++;
}
out.chatStream = s;
out.chatStreamParts = parts;

const gen = await ollama.generate({ model, prompt: 'Why is the sky blue?', options: { temperature: 0, num_predict: 8, seed: 42 } });
out.generate = gen.response;
let g = '';
for await (const part of await ollama.generate({ model, prompt: 'Why is the sky blue?', options: { temperature: 0, num_predict: 8 }, stream: true })) {
  g += part.response;
}
out.generateStream = g;

out.ps = (await ollama.ps()).models.map(m => m.name);

try {
  await ollama.chat({ model: 'gemma3:999b', messages: [{ role: 'user', content: 'hi' }] });
  out.error = 'no error';
} catch (e) {
  out.error = { message: e.error ?? e.message, status: e.status_code };
}
try {
  await ollama.generate({ model, prompt: 'x', images: ['aGVsbG8='] });
  out.imageError = 'no error';
} catch (e) {
  out.imageError = { message: e.error ?? e.message, status: e.status_code };
}
console.log(JSON.stringify(out));
