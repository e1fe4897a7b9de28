import { after, before } from 'node:test';
import { openMetaStore, type MetaStore } from '../src/meta/index.ts';
import { metaStoreContract } from './contract/meta-store.contract.ts';
import { startPostgres, type PostgresCluster } from './helpers/postgres.ts';

let cluster: PostgresCluster;

before(async () => {
  cluster = await startPostgres();
});

after(async () => {
  await cluster?.stop();
});

metaStoreContract('postgres', async () => {
  const url = await cluster.createDatabase();
  let store: MetaStore = await openMetaStore({ url });
  return {
    store,
    async reopen() {
      await store.close();
      store = await openMetaStore({ url });
      return store;
    },
    async cleanup() {
      await store.close();
    },
  };
});
