/**
 * A value that must not reach logs: passwords, private keys, subscription keys. String conversion,
 * JSON and util.inspect all print a placeholder; `reveal()` is the one way in.
 */
const inspect = Symbol.for('nodejs.util.inspect.custom');

export class Secret<T> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect](): string {
    return 'Secret([secret])';
  }
}
