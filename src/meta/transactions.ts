/** Transactions that run again when PostgreSQL reports a deadlock or serialization failure. */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

const transactionAttempts = 3;

/** PostgreSQL's deadlock and serialization failures: the transaction can simply run again. */
function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

export async function runTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      if (attempt >= transactionAttempts || !isRetryableConflict(error)) throw error;
    }
  }
}

export function timestamp(): string {
  return new Date().toISOString();
}
