// The inspector page itself, in headless Chromium, fed with real engine output (the oracle
// checkpoints through the JS backend): every view renders, hover and clicks reach the host,
// editor selections highlight tokens, and the state survives a reload. Screenshots go to
// test-results/inspector/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from '../../engine/inspect/inspect';
import { toWire } from '../../engine/inspect/wire';
import { loadModel } from '../../engine/model/load';
import { configFromHF } from '../../engine/model/families';
import { randomModel } from '../../engine/model/init';
import type { InspectorSource, InspectorViewId } from '../../media/src/shared/inspectorProtocol';
import { CHROMIUM, openInspectorPage, type InspectorPage } from '../harness/inspectorPage';
import { oracleDir, oracleFile } from './oracle';

const SHOTS = join(__dirname, '..', '..', '..', 'test-results', 'inspector');
const VIEWS: InspectorViewId[] = ['heads', 'model', 'heatmap', 'aggregate', 'stepper', 'lens', 'positions'];
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;

async function oracleInspection(name: string): Promise<{ wire: ReturnType<typeof toWire>; source: InspectorSource }> {
  const ids = Array.from(oracleFile(name, 'reference').tensorToInt32('input_ids'));
  const insp = await inspect(loadModel(oracleDir(name)), { ids, promptLength: 16, encoding: 'r50k_base', segments: [{ textStart: 0, length: 10, docOffset: 0 }] });
  return { wire: toWire(insp), source: { label: name, documentUri: null, ids, promptLength: 16, segments: insp.segments } };
}

/** A Llama-shaped model of random weights with grouped-query attention: 6 query heads in 2 key/value groups of 3. */
async function gqaInspection(): Promise<{ wire: ReturnType<typeof toWire>; source: InspectorSource }> {
  const config = configFromHF({
    model_type: 'llama',
    vocab_size: 512,
    hidden_size: 48,
    intermediate_size: 96,
    num_hidden_layers: 2,
    num_attention_heads: 6,
    num_key_value_heads: 2,
    max_position_embeddings: 64,
  });
  const ids = Array.from({ length: 24 }, (_, i) => (i * 37 + 11) % 512);
  const insp = await inspect(randomModel(config, 3), { ids, promptLength: 16, encoding: 'r50k_base' });
  assert.equal(insp.model.nKvHead, 2);
  return { wire: toWire(insp), source: { label: 'gqa-random', documentUri: null, ids, promptLength: 16, segments: [] } };
}

/** Switches the page to a light theme, as VS Code does (the body's class and the variables). */
async function lightTheme(p: InspectorPage): Promise<void> {
  await p.page.evaluate(() => {
    document.documentElement.style.setProperty('--vscode-editor-background', '#ffffff');
    document.documentElement.style.setProperty('--vscode-foreground', '#333333');
    document.documentElement.style.setProperty('--vscode-descriptionForeground', '#717171');
    document.documentElement.style.setProperty('--vscode-button-secondaryBackground', '#e5e5e5');
    document.documentElement.style.setProperty('--vscode-button-secondaryForeground', '#333333');
    document.body.classList.replace('vscode-dark', 'vscode-light');
  });
}

/** Inked pixels of a canvas in the one-pixel column at CSS x, between CSS y0 and y1. */
async function inkedColumn(p: InspectorPage, selector: string, x: number, y0: number, y1: number): Promise<number> {
  return p.page.evaluate(
    ({ selector, x, y0, y1 }) => {
      const c = document.querySelector<HTMLCanvasElement>(selector)!;
      const dpr = c.width / c.getBoundingClientRect().width;
      const d = c.getContext('2d')!.getImageData(Math.floor(x * dpr), Math.floor(y0 * dpr), 1, Math.floor((y1 - y0) * dpr)).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    },
    { selector, x, y0, y1 },
  );
}

/** Pixels of all canvases in the active view that differ from the first one (blank = 0). */
async function inkedPixels(p: InspectorPage): Promise<number> {
  return p.page.evaluate(() => {
    let n = 0;
    document.querySelectorAll<HTMLCanvasElement>('.stage canvas').forEach((c) => {
      if (c.width === 0 || c.height === 0) return;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    });
    return n;
  });
}

test('every view renders real engine output, and the page talks to the host', { skip }, async () => {
  mkdirSync(SHOTS, { recursive: true });
  const { wire, source } = await oracleInspection('gpt2-tiny');
  const p = await openInspectorPage();
  try {
    await p.load(wire, source);
    const { page } = p;
    for (const view of VIEWS) {
      await page.click(`#tab-${view}`);
      await page.waitForSelector(`[role=tabpanel][aria-labelledby=tab-${view}]`);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
      const explain = await page.textContent('.explain p');
      assert.ok(explain && explain.length > 80, `${view} carries an explanation`);
      if (view === 'lens') {
        const rows = await page.$$eval('.lens-table tr', (r) => r.length);
        assert.equal(rows, 1 + 3, 'a header, the embedding and one row per layer');
      } else if (view === 'stepper') {
        assert.equal(await page.$$eval('.token-flow .tok', (s) => s.length), 24);
        assert.match((await page.textContent('.step-label')) ?? '', /Step 8 of 8/, 'starts at the last generated token');
      } else {
        assert.ok((await inkedPixels(p)) > 500, `${view} draws on its canvas`);
      }
      await page.screenshot({ path: join(SHOTS, `${view}.png`) });
      const saved = await p.state();
      assert.equal(saved?.ui?.view, view, 'the chosen view is saved with setState');
    }

    // Head view: hovering a token on the left reports it; clicking reveals it.
    await page.click('#tab-heads');
    const box = (await page.locator('.head-view canvas').boundingBox())!;
    await page.mouse.move(box.x + 40, box.y + 18 * 5 + 9);
    await page.mouse.click(box.x + 40, box.y + 18 * 5 + 9);
    const posted = await p.posted();
    assert.ok(posted.some((m) => m.type === 'hoverToken' && m.token === 5), 'hover reports token 5');
    assert.ok(posted.some((m) => m.type === 'revealToken' && m.token === 5), 'click reveals token 5');
    assert.equal((await p.state())?.ui?.token, 5);
    await page.screenshot({ path: join(SHOTS, 'heads-hover.png') });

    // Head toggles: click hides one head, double-click shows it alone.
    const toggles = page.locator('.head-toggle:not(.all)');
    await toggles.nth(1).click();
    assert.deepEqual((await p.state())?.ui?.heads, [true, false, true, true]);
    await toggles.nth(2).dblclick();
    assert.deepEqual((await p.state())?.ui?.heads, [false, false, true, false]);

    // Keyboard: arrows move the token, ']' changes the layer.
    await page.focus('.head-view .scroller');
    await page.keyboard.press('ArrowDown');
    assert.equal((await p.state())?.ui?.token, 6);
    await page.keyboard.press(']');
    assert.equal((await p.state())?.ui?.layer, 1);

    // An editor selection highlights its tokens.
    await p.post({ type: 'highlightTokens', tokens: [2, 3] });
    await page.click('#tab-stepper');
    assert.deepEqual(await page.$$eval('.tok.highlighted', (s) => s.map((e) => Number((e as HTMLElement).dataset.t))), [2, 3]);

    // Model view: clicking a cell opens that head's heatmap; hovering the heatmap reads out.
    await page.click('#tab-model');
    const grid = (await page.locator('.model-view canvas').boundingBox())!;
    await page.mouse.click(grid.x + 28 + 3 * 100 + 10, grid.y + 28 + 10);
    const ui = (await p.state())?.ui;
    assert.equal(ui?.view, 'heatmap');
    assert.equal(ui?.layer, 0);
    const heat = (await page.locator('.heatmap-view canvas').boundingBox())!;
    await page.mouse.move(heat.x + 90 + 3, heat.y + 70 + 200);
    assert.match((await page.textContent('.heatmap-view .readout')) ?? '', /→ token 0 .*: \d\.\d{3}/);

    // Logit lens: the temperature slider re-weights the final distribution.
    await page.click('#tab-lens');
    const before = await page.textContent('.dist');
    await page.locator('.lens-view input[type=range]').fill('0.2');
    assert.notEqual(await page.textContent('.dist'), before);
    assert.equal((await p.state())?.ui?.temperature, 0.2);

    // Light theme: the page re-reads its colours and redraws.
    await page.evaluate(() => {
      document.documentElement.style.setProperty('--vscode-editor-background', '#ffffff');
      document.documentElement.style.setProperty('--vscode-foreground', '#333333');
      document.body.classList.replace('vscode-dark', 'vscode-light');
    });
    await page.click('#tab-aggregate');
    await page.click('.heatmap-view button[data-kind=rollout]');
    await page.screenshot({ path: join(SHOTS, 'rollout-light.png') });
    assert.equal((await p.state())?.ui?.aggregate, 'rollout');
  } finally {
    await p.close();
  }
});

test('a reloaded page restores its view from getState; Llama shows rotary positions', { skip }, async () => {
  const { wire, source } = await oracleInspection('llama-tiny');
  const p = await openInspectorPage({
    state: { source, ui: { view: 'positions', layer: 1, head: 2, heads: [true, true, true, true], token: 20, threshold: 0.1, topK: 4, aggregate: 'mean', temperature: 1 } },
  });
  try {
    await p.load(wire, source);
    assert.equal(await p.page.getAttribute('#tab-positions', 'aria-selected'), 'true');
    assert.match((await p.page.textContent('.positions-view')) ?? '', /RoPE rotates 8 pairs/);
    assert.ok((await inkedPixels(p)) > 500);
    await p.page.screenshot({ path: join(SHOTS, 'positions-llama.png') });
    await p.page.click('#tab-heads');
    assert.equal(await p.page.inputValue('.toolbar select'), '1', 'the saved layer is kept');
  } finally {
    await p.close();
  }
});

test('grouped-query attention: heads are labelled by key/value group, a group toggles as one, the grid divides the groups', { skip }, async () => {
  mkdirSync(SHOTS, { recursive: true });
  const { wire, source } = await gqaInspection();
  const p = await openInspectorPage();
  try {
    await p.load(wire, source);
    const { page } = p;
    assert.match((await page.textContent('.status')) ?? '', /2 layers × 6 query heads sharing 2 key\/value heads \(groups of 3\)/);
    assert.match((await page.textContent('.explain p')) ?? '', /share one key\/value head/);

    // Head toggles: two framed groups of three, each head labelled with its group.
    const groups = await page.$$eval('.head-toggles .kv-group', (gs) =>
      gs.map((g) => ({ label: g.getAttribute('aria-label'), heads: Array.from(g.querySelectorAll<HTMLElement>('.head-toggle')).map((b) => `${b.textContent}:${b.dataset.kv}`) })),
    );
    assert.deepEqual(groups, [
      { label: 'Key/value group 0: query heads 0-2', heads: ['0:0', '1:0', '2:0'] },
      { label: 'Key/value group 1: query heads 3-5', heads: ['3:1', '4:1', '5:1'] },
    ]);
    assert.match((await page.getAttribute('.head-toggle:not(.all) >> nth=4', 'title')) ?? '', /^Query head 4 of 6, shares key\/value head 1 with heads 3-5: /);
    assert.deepEqual(await page.$$eval('.kv-toggle', (bs) => bs.map((b) => b.textContent)), ['kv0', 'kv1']);
    assert.match((await page.getAttribute('.kv-toggle[data-kv="1"]', 'title')) ?? '', /Key\/value head 1, shared by query heads 3-5/);

    // A group's button turns exactly its heads off, then on again; a mixed group shows 'mixed'.
    const pressed = (): Promise<(string | null)[]> => page.$$eval('.kv-toggle', (bs) => bs.map((b) => b.getAttribute('aria-pressed')));
    assert.deepEqual(await pressed(), ['true', 'true']);
    await page.click('.kv-toggle[data-kv="1"]');
    assert.deepEqual((await p.state())?.ui?.heads, [true, true, true, false, false, false]);
    assert.deepEqual(await pressed(), ['true', 'false']);
    assert.deepEqual(await page.$$eval('.head-toggle:not(.all)', (bs) => bs.map((b) => b.getAttribute('aria-pressed'))), ['true', 'true', 'true', 'false', 'false', 'false']);
    await page.click('.head-toggle:not(.all) >> nth=4');
    assert.deepEqual(await pressed(), ['true', 'mixed']);
    await page.click('.kv-toggle[data-kv="1"]');
    assert.deepEqual((await p.state())?.ui?.heads, [true, true, true, true, true, true], 'a partly shown group is shown whole');
    await page.click('.kv-toggle[data-kv="0"]');
    assert.deepEqual((await p.state())?.ui?.heads, [false, false, false, true, true, true]);
    await page.dblclick('.kv-toggle[data-kv="0"]');
    assert.deepEqual((await p.state())?.ui?.heads, [true, true, true, false, false, false], 'double-click shows the group alone');
    await page.click('.head-toggle.all');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    await page.screenshot({ path: join(SHOTS, 'heads-gqa.png') });

    // Model grid: the caption names the groups, a dashed divider stands between them, and the
    // columns after it are still the right heads.
    await page.click('#tab-model');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    assert.match((await page.textContent('.model-view .readout')) ?? '', /6 query heads in 2 key\/value groups/);
    const dividers = ((await page.getAttribute('.model-view canvas', 'data-dividers')) ?? '').split(',').filter(Boolean).map(Number);
    assert.equal(dividers.length, 1, 'one divider between two groups');
    const grid = (await page.locator('.model-view canvas').boundingBox())!;
    assert.ok((await inkedColumn(p, '.model-view canvas', dividers[0]!, 50, grid.height - 10)) > 40, 'the divider is drawn down the grid');
    assert.equal(await inkedColumn(p, '.model-view canvas', dividers[0]! - 3, 50, grid.height - 10), 0, 'the gap beside it is empty');
    await page.screenshot({ path: join(SHOTS, 'model-gqa.png') });
    await page.mouse.move(grid.x + dividers[0]! + 20, grid.y + 28 + 16 + 10);
    assert.match((await page.textContent('.model-view .readout')) ?? '', /layer 0, head 3 \(key\/value group 1\)/);
    await page.mouse.click(grid.x + dividers[0]! + 20, grid.y + 28 + 16 + 10);
    assert.deepEqual([(await p.state())?.ui?.view, (await p.state())?.ui?.head], ['heatmap', 3]);
    assert.match((await page.textContent('.heatmap-view .readout')) ?? '', /layer 0, head 3 \(key\/value group 1\)/);

    // The light theme: the same page, re-coloured.
    await lightTheme(p);
    await page.click('#tab-heads');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    await page.screenshot({ path: join(SHOTS, 'heads-gqa-light.png') });
    await page.click('#tab-model');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    await page.screenshot({ path: join(SHOTS, 'model-gqa-light.png') });
  } finally {
    await p.close();
  }
});

test('multi-head attention (GPT-2, as many key/value heads as query heads) shows no group UI', { skip }, async () => {
  const { wire, source } = await oracleInspection('gpt2-tiny');
  assert.equal(wire.meta.model.nKvHead, wire.meta.model.nHead);
  const p = await openInspectorPage();
  try {
    await p.load(wire, source);
    const { page } = p;
    const status = (await page.textContent('.status')) ?? '';
    assert.match(status, /2 layers × 4 heads, gpt2\./);
    assert.doesNotMatch(status + ((await page.textContent('.explain p')) ?? ''), /key\/value/);
    assert.equal(await page.locator('.kv-group, .kv-toggle, [data-kv]').count(), 0);
    assert.equal(await page.locator('.head-toggle:not(.all)').count(), 4);
    assert.equal(await page.getAttribute('.head-toggle >> nth=2', 'title'), 'Head 2: click to show or hide, double-click to show alone');
    await page.click('#tab-model');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    assert.equal(await page.getAttribute('.model-view canvas', 'data-dividers'), null);
    assert.doesNotMatch((await page.textContent('.model-view .readout')) ?? '', /key\/value/);
    assert.doesNotMatch((await page.textContent('.explain p')) ?? '', /key\/value/);
  } finally {
    await p.close();
  }
});
