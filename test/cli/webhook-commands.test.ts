import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseHeaders } from '../../src/cli/commands/webhook.ts';
import { imageOf, pushImage } from '../helpers/oci-http.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { assertCliError, startCliBerth, type CliBerth } from './cli-harness.ts';

interface Webhook {
  id: string;
  name: string;
  status: string;
  scope: string;
  actions: string[];
}

describe('berth webhook', () => {
  let cli: CliBerth;
  let receiver: WebhookReceiver;
  before(async () => {
    cli = await startCliBerth({ events: { pollMilliseconds: 50 } });
    receiver = await startWebhookReceiver();
    await cli.berth(['create', '-n', 'contoso']);
  });
  after(async () => {
    await cli.close();
    await receiver.close();
  });

  it("berth webhook create|list|show|update|get-config|ping|list-events|delete: a round trip", async () => {
    const created = await cli.json<Webhook>([
      'webhook',
      'create',
      '-n',
      'clihook',
      '-r',
      'contoso',
      '--uri',
      `${receiver.url}/cli`,
      '--actions',
      'push',
      'delete',
      '--scope',
      'hello-world:*',
      '--headers',
      'X-Token=abc=def',
      'X-Team=blue',
    ]);
    assert.deepEqual(
      { id: created.id, name: created.name, status: created.status, scope: created.scope, actions: created.actions },
      { id: '/registries/contoso/webhooks/clihook', name: 'clihook', status: 'enabled', scope: 'hello-world:*', actions: ['push', 'delete'] },
    );
    assert.deepEqual(await cli.json(['webhook', 'list', '-r', 'contoso', '--query', '[].name']), ['clihook']);
    assert.equal((await cli.berth(['webhook', 'show', '-n', 'clihook', '-r', 'contoso', '--query', 'status', '-o', 'tsv'])).stdout.trim(), 'enabled');
    const table = (await cli.berth(['webhook', 'list', '-r', 'contoso', '-o', 'table'])).stdout;
    assert.match(table, /NAME\s+STATUS\s+SCOPE\s+ACTIONS/);
    assert.match(table, /clihook\s+enabled\s+hello-world:\*\s+push, delete/);

    assert.deepEqual(await cli.json(['webhook', 'get-config', '-n', 'clihook', '-r', 'contoso']), {
      serviceUri: `${receiver.url}/cli`,
      customHeaders: { 'X-Token': '***', 'X-Team': '***' },
    });

    await pushImage(cli.server, 'hello-world', 'v1', imageOf(), cli.loginServer('contoso'));
    const [push] = await receiver.waitFor((requests) => requests.length >= 1, { path: '/cli' });
    assert.equal(push?.body.action, 'push');
    assert.equal(push?.headers['x-token'], 'abc=def');

    const ping = await cli.json<{ id: string }>(['webhook', 'ping', '-n', 'clihook', '-r', 'contoso']);
    assert.match(ping.id, /^[0-9a-f-]{36}$/);
    const events = await cli.json<{ id: string; action: string; status: string; eventResponseMessage: { statusCode: string } }[]>(['webhook', 'list-events', '-n', 'clihook', '-r', 'contoso']);
    assert.deepEqual(events.map((event) => [event.action, event.status, event.eventResponseMessage.statusCode]), [
      ['ping', 'delivered', '200'],
      ['push', 'delivered', '200'],
    ]);
    assert.equal(events[0]?.id, ping.id);
    assert.deepEqual(await cli.json(['webhook', 'list-events', '-n', 'clihook', '-r', 'contoso', '--top', '1', '--query', '[].action']), ['ping']);
    assert.match((await cli.berth(['webhook', 'list-events', '-n', 'clihook', '-r', 'contoso', '-o', 'table'])).stdout, /ID\s+ACTION\s+STATUS\s+ATTEMPTS\s+HTTP/);

    const updated = await cli.json<Webhook>(['webhook', 'update', '-n', 'clihook', '-r', 'contoso', '--status', 'disabled', '--scope', '', '--actions', 'delete', '--headers', '']);
    assert.deepEqual([updated.status, updated.scope, updated.actions], ['disabled', '', ['delete']]);
    assert.deepEqual(await cli.json(['webhook', 'get-config', '-n', 'clihook', '-r', 'contoso', '--query', 'customHeaders']), {});

    await cli.berth(['webhook', 'delete', '-n', 'clihook', '-r', 'contoso', '--yes']);
    assert.deepEqual(await cli.json(['webhook', 'list', '-r', 'contoso']), []);
  });

  it('reports refusals as az does', async () => {
    assertCliError(await cli.berth(['webhook', 'show', '-n', 'nosuchhook', '-r', 'contoso'], { allowFailure: true }), /no webhook named nosuchhook/);
    assertCliError(
      await cli.berth(['webhook', 'create', '-n', 'badscope', '-r', 'contoso', '--uri', receiver.url, '--actions', 'push', '--scope', 'a:b:c'], { allowFailure: true }),
      /more than one ":"/,
    );
    assertCliError(await cli.berth(['webhook', 'update', '-n', 'clihook', '-r', 'contoso'], { allowFailure: true }), /nothing to update/);
    assertCliError(await cli.berth(['webhook', 'create', '-n', 'nohook', '-r', 'contoso', '--uri', receiver.url, '--actions', 'pull'], { allowFailure: true }), /invalid|Allowed choices/i);
    assertCliError(await cli.berth(['webhook', 'create', '-n', 'nohook', '-r', 'contoso', '--uri', receiver.url, '--actions', 'push', '--headers', 'novalue'], { allowFailure: true }), /expected name=value/);
  });

  it('parses --headers name=value, keeping "=" in values', () => {
    assert.deepEqual(parseHeaders(['Authorization=Bearer a=b', 'X-Empty=']), { Authorization: 'Bearer a=b', 'X-Empty': '' });
    assert.deepEqual(parseHeaders(['']), {});
  });
});
