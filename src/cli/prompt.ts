/**
 * Asking a person at a terminal: a visible line (a user name) and a hidden one (a password: raw
 * mode, nothing echoed, Backspace works, Ctrl-C / Ctrl-D cancel). Prompts go to stderr so stdout
 * stays clean for --json. And reading a secret from standard input for scripts.
 */
import { createInterface } from 'node:readline';
import { makeError } from '../errors/define.js';
import { GeneralErrors } from '../errors/codes/general.js';

export function stdinIsTerminal(): boolean {
  return process.stdin.isTTY === true;
}

export async function askLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  let onClose: (() => void) | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      onClose = () => reject(makeError(GeneralErrors.CANCELLED));
      rl.once('close', onClose); // Ctrl-D
      rl.question(question, (answer) => resolve(answer.trim()));
    });
  } finally {
    // only our listener: readline's own 'close' handler detaches it from the terminal (raw mode, keypresses)
    if (onClose) rl.off('close', onClose);
    rl.close();
  }
}

export function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const finish = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && value === '')) return finish(makeError(GeneralErrors.CANCELLED));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** All of standard input (a password piped in by a script), without one trailing newline. */
export async function readStdinSecret(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8').replace(/\r?\n$/, '');
}
