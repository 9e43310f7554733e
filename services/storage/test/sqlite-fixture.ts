import Database from "better-sqlite3";
import { SQLITE_MIGRATIONS } from "../src/sqlite-schema.js";

/**
 * Creates `file` as an older release left it: only the migrations up to `version`, recorded in
 * schema_migrations. Returns the open database (the caller closes it) to add rows of that era.
 */
export function databaseAtVersion(file: string, version: number): Database.Database {
  const db = new Database(file);
  db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version <= version)) {
    db.exec(migration.sql);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(migration.version, migration.name, Date.now());
  }
  return db;
}
