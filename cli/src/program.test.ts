import type { EventEmitter } from 'node:events';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program';

const leaves = (command: Command, path: string[] = []): [string, Command][] =>
  command.commands.flatMap((sub) =>
    sub.commands.length === 0 ? [[[...path, sub.name()].join(' '), sub]] : leaves(sub, [...path, sub.name()]),
  );

const afterHelp = (command: Command) => {
  let text = '';
  // commander's Command is an EventEmitter at run time; its typings leave that out.
  (command as unknown as EventEmitter).emit('afterHelp', {
    error: false,
    command,
    write: (chunk: string) => (text += chunk),
  });
  return text;
};

describe('runnel --help', () => {
  const program = buildProgram();

  it.each(leaves(program).filter(([name]) => name !== 'help'))(
    '%s has a description and examples',
    (_name, command) => {
      expect(command.description()).not.toBe('');
      expect(afterHelp(command)).toMatch(/Examples?:\n {2}\$ /);
    },
  );

  it('lists every command of the contract', () => {
    expect(program.commands.map((c) => c.name())).toEqual(
      expect.arrayContaining([
        'topic',
        'produce',
        'consume',
        'group',
        'key',
        'token',
        'connector',
        'tenant',
        'profile',
        'dev',
      ]),
    );
  });
});
