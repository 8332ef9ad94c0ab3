import { databaseTemplate } from './database.js';

/** `postgres_database`: an RDS PostgreSQL instance. */
export const postgresDatabaseTemplate = databaseTemplate('postgres');
