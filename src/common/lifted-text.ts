import { inspect } from 'node:util';

/**
 * A long JSON string value of a request body, left as the body's bytes (printable ASCII without backslashes, so the
 * bytes are the string's characters): what the box routes' parser puts where an image's base64 was, so the image is
 * decoded from the bytes without a JavaScript string of 100,000s of characters (each of which costs V8 a large-object
 * allocation, an mmap and page faults). The bytes are private: neither JSON.stringify nor util.inspect (loggers)
 * shows them.
 */
export class LiftedText {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Characters, which are bytes. */
  get length(): number {
    return this.#bytes.length;
  }

  /** A view of the body's bytes; not to be written to. */
  get bytes(): Buffer {
    return this.#bytes;
  }

  /** The string JSON.parse would have given. */
  text(): string {
    return this.#bytes.toString('latin1');
  }

  [inspect.custom](): string {
    return `[LiftedText: ${this.#bytes.length} characters]`;
  }
}
