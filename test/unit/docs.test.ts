import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/config/config.js';
import { ERROR_CODES } from '../../src/core/app-error.js';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

/** The README is the user's reference: every stable error code and every setting is in it. */
describe('README', () => {
  it.each(Object.entries(ERROR_CODES))('documents error code %s with its status', (code, { status }) => {
    expect(readme).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
  });

  it.each(Object.values(ENV_VARS))('documents setting %s', (name) => {
    expect(readme).toContain(`\`${name}\``);
  });

  it('gives the two set-up commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
