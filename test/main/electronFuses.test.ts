// The packaged app's Electron fuses (electron-builder.yml), read with the YAML parser electron-builder
// itself uses: what a person who can start the binary may not make it do (issue 17, item 7).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';

const config = load(
  readFileSync(fileURLToPath(new URL('../../electron-builder.yml', import.meta.url)), 'utf8'),
) as {
  electronFuses?: Record<string, boolean>;
  asar?: boolean;
};

describe('Electron fuses of the packaged app [ELECTRON-FUSES]', () => {
  it('turns off running as Node.js, NODE_OPTIONS and the inspector', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
    });
  });

  it('loads the app only from its own integrity-checked archive, and encrypts cookies', () => {
    expect(config.asar).not.toBe(false);
    expect(config.electronFuses).toMatchObject({
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      enableCookieEncryption: true,
    });
  });

  it('sets every fuse electron-builder knows (its own schema), so none is left to a default', () => {
    const schema = JSON.parse(
      readFileSync(
        fileURLToPath(new URL('../../node_modules/app-builder-lib/scheme.json', import.meta.url)),
        'utf8',
      ),
    ) as { definitions: { FuseOptionsV1: { properties: Record<string, unknown> } } };
    // resetAdHocDarwinSignature is a signing option that travels with the fuses, not a fuse.
    const fuses = Object.keys(schema.definitions.FuseOptionsV1.properties).filter(
      (name) => name !== 'resetAdHocDarwinSignature',
    );
    expect(fuses.length).toBeGreaterThanOrEqual(8);
    expect(Object.keys(config.electronFuses ?? {}).sort()).toEqual(fuses.sort());
  });
});
