import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/config/config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README stays honest', () => {
  it('documents every configuration variable the server reads', () => {
    for (const variable of CONFIG_VARIABLES) {
      expect(readme).toMatch(new RegExp(`^\\|\\s*\`${variable.name}\`\\s*\\|`, 'm'));
    }
  });

  it('lists in CONFIG_VARIABLES every variable that loadConfig reads', () => {
    const folder = new URL('../../src/config/', import.meta.url);
    const source = readdirSync(folder)
      .filter((name) => name.endsWith('.ts'))
      .map((name) => readFileSync(new URL(name, folder), 'utf8'))
      .join('\n');
    const read = [...source.matchAll(/\((?:env, )?'([A-Z_]+)'/g)].map((match) => match[1]);
    expect(read.length).toBeGreaterThan(15);
    const documented = CONFIG_VARIABLES.map((variable) => variable.name);
    for (const name of read) expect(documented).toContain(name);
  });

  it('gives npm install, npm start and npm test as the set-up commands', () => {
    for (const command of ['npm install', 'npm start', 'npm test']) expect(readme).toContain(command);
  });
});
