// Where supabase/migrations is at run time: beside the sources in a checkout (npm start, tests,
// the built out/main bundle) or in the packaged app's resources (electron-builder extraResources).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function findMigrationsDir(): string {
  const explicit = process.env.COUNTERSIGN_MIGRATIONS_DIR;
  if (explicit) return explicit;
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  const starts = [
    ...(resourcesPath ? [resourcesPath] : []),
    dirname(fileURLToPath(import.meta.url)),
    process.cwd(),
  ];
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      for (const candidate of [join(dir, 'supabase', 'migrations'), join(dir, 'migrations')]) {
        if (existsSync(join(candidate, '0001_roles_and_schemas.sql'))) return candidate;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error('The database migrations (supabase/migrations) were not found next to Countersign.');
}
