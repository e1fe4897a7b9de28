import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openMetaStore } from '../../../src/meta/index.ts';
import type { MetaStore } from '../../../src/meta/meta-store.ts';
import { RunLogs } from '../../../src/tasks/run-log.ts';

describe('run logs', () => {
  let dir: string;
  let meta: MetaStore;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-runlog-'));
    meta = await openMetaStore({ url: `sqlite:${path.join(dir, 'berth.db')}` });
    await meta.createRegistry('contoso');
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function runningRun(): Promise<string> {
    const run = await meta.tasks.queueRun({ registry: 'contoso', task: null, runType: 'QuickRun', trigger: 'Manual', platform: 'linux/amd64', request: {} });
    await meta.tasks.claimRun('w');
    return run.runId;
  }

  it('batches writes and continues the sequence of an existing log', async () => {
    const logs = new RunLogs(meta.tasks, { flushMs: 50 });
    const runId = await runningRun();
    const first = await logs.open('contoso', runId);
    first.write('a\n');
    first.write('b\n');
    await first.close();
    const second = await logs.open('contoso', runId);
    second.write('c\n');
    await second.close();
    const chunks = await meta.tasks.readRunLog('contoso', runId, 0);
    assert.deepEqual(chunks, [
      { seq: 0, text: 'a\nb\n' },
      { seq: 1, text: 'c\n' },
    ]);
  });

  it('follows a live log in this process promptly and ends when the run finishes', async () => {
    const logs = new RunLogs(meta.tasks, { flushMs: 10, pollMs: 60_000 });
    const runId = await runningRun();
    const writer = await logs.open('contoso', runId);
    const received: Array<{ text: string; at: number }> = [];
    const reading = (async () => {
      for await (const text of logs.read('contoso', runId, { follow: true })) received.push({ text, at: Date.now() });
    })();
    const writtenAt = Date.now();
    writer.write('live line\n');
    await writer.close();
    await meta.tasks.finishRun('contoso', runId, { status: 'Succeeded' });
    logs.notify('contoso', runId);
    await reading;
    assert.equal(received.map((chunk) => chunk.text).join(''), 'live line\n');
    assert.ok(received[0]!.at - writtenAt < 300);
  });

  it('follows a log written elsewhere by polling', async () => {
    const writerSide = new RunLogs(meta.tasks, { flushMs: 10 });
    const readerSide = new RunLogs(meta.tasks, { pollMs: 50 });
    const runId = await runningRun();
    const reading = (async () => {
      let text = '';
      for await (const chunk of readerSide.read('contoso', runId, { follow: true })) text += chunk;
      return text;
    })();
    const writer = await writerSide.open('contoso', runId);
    writer.write('from another node\n');
    await writer.close();
    await meta.tasks.finishRun('contoso', runId, { status: 'Failed', errorMessage: 'x' });
    assert.equal(await reading, 'from another node\n');
  });
});
