import { databaseTemplate } from './database.js';

/** `mysql_database`: an RDS MySQL instance. */
export const mysqlDatabaseTemplate = databaseTemplate('mysql');
