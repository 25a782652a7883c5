// The /ui chat page in a real headless Chromium (Debian's chromium, driven by playwright-core): pick the model
// from the list the page loaded from /api/tags, chat two turns, read the streamed replies. Prints one JSON object.
import { chromium } from 'playwright-core';

const base = process.env.JGEMMA_URL;
const model = process.env.MODEL;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run'],
});
const out = {};
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  await page.goto(base + '/ui');
  await page.waitForSelector('body[data-models]', { timeout: 30000 });
  out.options = await page.$$eval('#model option', os => os.map(o => o.value));
  await page.selectOption('#model', model);
  await page.fill('#temperature', '0');
  await page.fill('#num_predict', '10');
  await page.fill('#prompt', 'Tell me about the sea');
  await page.click('#send');
  await page.waitForSelector('.assistant[data-state="done"]', { timeout: 60000 });
  out.first = await page.$eval('.assistant', e => e.textContent);
  await page.fill('#prompt', 'And the sky?');
  await page.press('#prompt', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.assistant[data-state="done"]').length === 2, null, { timeout: 60000 });
  out.second = await page.$$eval('.assistant', es => es[1].textContent);
  out.stats = await page.$$eval('.stats', es => es.map(e => e.textContent));
  out.errors = errors.concat(await page.$$eval('.error', es => es.map(e => e.textContent)));
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
