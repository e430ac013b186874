/** Every command of the `gatehouse` CLI. Add a command by importing it here. */
import type { Command } from '../command.js';
import { upCommand } from './up.js';
import { checkCommand } from './check.js';
import { certsCreateCommand } from './certs.js';
import { policyLintCommand } from './policy-lint.js';

export const commands: readonly Command[] = [upCommand, checkCommand, certsCreateCommand, policyLintCommand];
