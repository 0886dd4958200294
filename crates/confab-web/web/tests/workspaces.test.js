// @ts-check
/** Someone in two workspaces switches between them; leaving a channel takes it off the sidebar. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, api, launch, shoot, startServer, team } from './support.js';

test('the workspace switcher moves between workspaces, and Leave takes a channel away', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const t = await team(browser, server.url);
    const { workspace: beta } = await api(t.ada, server.url, 'POST', '/workspaces', { name: 'Beta' });
    await api(t.ada, server.url, 'POST', `/workspaces/${beta.id}/channels`, { name: 'beta-only' });
    await api(t.ada, server.url, 'POST', `/workspaces/${t.workspace.id}/channels`, { name: 'dev' });
    const a = await t.ada.newPage();
    a.on('dialog', (d) => d.accept());
    await a.goto(`${server.url}/w/${t.workspace.id}/c/${t.general}`);
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });

    await a.getByRole('link', { name: '#dev' }).click();
    await a.getByRole('heading', { name: '#dev' }).waitFor({ timeout: WAIT });
    await a.getByRole('button', { name: 'Leave', exact: true }).click();
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    assert.equal(await a.getByRole('list', { name: 'Channels' }).getByRole('link', { name: '#dev' }).count(), 0);
    // It is still there to browse and join again.
    await a.getByText('Browse channels').click();
    await a.getByRole('button', { name: 'Join #dev' }).waitFor({ timeout: WAIT });

    await a.getByLabel('Workspace', { exact: true }).selectOption({ label: 'Beta' });
    await a.getByRole('link', { name: '#beta-only' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await a.getByRole('navigation').getByRole('listitem').getByRole('link').allInnerTexts(), ['#beta-only', '#general'], 'only Beta\'s channels');
    await shoot(a, 'workspace-switcher-light-wide');
    await a.getByLabel('Workspace', { exact: true }).selectOption({ label: 'Acme' });
    // Both have a #general: wait for Beta's own channel to go.
    await a.getByRole('link', { name: '#beta-only' }).waitFor({ state: 'detached', timeout: WAIT });
    assert.deepEqual(await a.getByRole('navigation').getByRole('listitem').getByRole('link').allInnerTexts(), ['#general'], 'only Acme\'s channels');
  } finally {
    await browser.close();
    await server.stop();
  }
});
