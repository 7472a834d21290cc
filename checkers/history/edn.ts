/**
 * EDN (extensible data notation) reading and writing, as Jepsen and Knossos write histories.
 *
 * Mapping to JavaScript: `nil` → `null`; booleans; integers → `number` (or `bigint` beyond
 * 2^53, or with an `N` suffix); floats → `number`; strings and characters → `string`;
 * keywords → interned {@link Keyword}s (so `===` compares them); symbols → {@link EdnSymbol};
 * vectors and lists → arrays; maps whose keys are all keywords → plain objects keyed by the
 * keyword's name, other maps → `Map`; sets → `Set`; tagged literals → {@link Tagged}.
 *
 * We write our own reader rather than use an npm one because the checker needs every top-level
 * form's line number for its error messages, and speed on multi-megabyte histories.
 */

/** An EDN keyword such as `:read`. Interned: `Keyword.of('a') === Keyword.of('a')`. */
export class Keyword {
  static readonly #table = new Map<string, Keyword>();
  /** The keyword's name without the leading colon, e.g. `read` or `jepsen/nemesis`. */
  readonly name: string;
  private constructor(name: string) {
    this.name = name;
  }
  /** The interned keyword named `name`. */
  static of(name: string): Keyword {
    let k = Keyword.#table.get(name);
    if (k === undefined) {
      k = new Keyword(name);
      Keyword.#table.set(name, k);
    }
    return k;
  }
  /** The keyword named `name` if one was made already. */
  static find(name: string): Keyword | undefined {
    return Keyword.#table.get(name);
  }
  toString(): string {
    return `:${this.name}`;
  }
  /** JSON has no keywords: a keyword becomes its name. */
  toJSON(): string {
    return this.name;
  }
}

/** An EDN symbol (rare in histories; kept so that a history can be written back unchanged). */
export class EdnSymbol {
  constructor(readonly name: string) {}
  toString(): string {
    return this.name;
  }
  toJSON(): string {
    return this.name;
  }
}

/** A tagged literal such as `#inst "2024-01-01T00:00:00Z"`. */
export class Tagged {
  constructor(
    readonly tag: string,
    readonly value: EdnValue,
  ) {}
  toJSON(): unknown {
    return { [`#${this.tag}`]: this.value };
  }
}

/** Any value an EDN document can hold, as this module maps it to JavaScript. */
export type EdnValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Keyword
  | EdnSymbol
  | Tagged
  | EdnValue[]
  | { [key: string]: EdnValue }
  | Map<EdnValue, EdnValue>
  | Set<EdnValue>;

/** A syntax error in EDN text, with the 1-based line and column where it was found. */
export class EdnSyntaxError extends Error {
  readonly code = 'EDN_SYNTAX';
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'EdnSyntaxError';
  }
}

/** One top-level form (or one element of a top-level vector/list) and the line it starts on. */
export interface EdnForm {
  readonly value: EdnValue;
  readonly line: number;
}

const enum C {
  TAB = 9,
  LF = 10,
  CR = 13,
  SPACE = 32,
  BANG = 33,
  QUOTE = 34,
  HASH = 35,
  LPAREN = 40,
  RPAREN = 41,
  PLUS = 43,
  COMMA = 44,
  MINUS = 45,
  DOT = 46,
  ZERO = 48,
  NINE = 57,
  COLON = 58,
  SEMI = 59,
  LBRACKET = 91,
  BACKSLASH = 92,
  RBRACKET = 93,
  UNDERSCORE = 95,
  LBRACE = 123,
  RBRACE = 125,
}

const CLOSERS: Record<number, string> = { [C.RPAREN]: ')', [C.RBRACKET]: ']', [C.RBRACE]: '}' };

function isWhitespace(c: number): boolean {
  return c === C.SPACE || c === C.COMMA || c === C.LF || c === C.TAB || c === C.CR || c === 12;
}

function isDelimiter(c: number): boolean {
  return (
    isWhitespace(c) ||
    c === C.LPAREN ||
    c === C.RPAREN ||
    c === C.LBRACKET ||
    c === C.RBRACKET ||
    c === C.LBRACE ||
    c === C.RBRACE ||
    c === C.QUOTE ||
    c === C.SEMI
  );
}

const INT_RE = /^[+-]?(0|[1-9][0-9]*)N?$/;
const FLOAT_RE = /^[+-]?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][+-]?[0-9]+)?M?$/;
const SYMBOL_RE = /^(?:[A-Za-z*!_?$%&=<>.+\-][A-Za-z0-9*!_?$%&=<>.+\-:#']*)(?:\/[A-Za-z0-9*!_?$%&=<>.+\-:#']+)?$|^\/$/;

const NAMED_CHARS: Record<string, string> = {
  newline: '\n',
  return: '\r',
  space: ' ',
  tab: '\t',
  formfeed: '\f',
  backspace: '\b',
};

/** A reader over one EDN text. */
class Reader {
  pos = 0;
  line = 1;
  lineStart = 0;
  constructor(readonly text: string) {}

  fail(reason: string, pos = this.pos): never {
    // Recompute the line of `pos` only if it is not on the current line.
    let line = this.line;
    let lineStart = this.lineStart;
    if (pos < lineStart) {
      line = 1;
      lineStart = 0;
      for (let i = 0; i < pos; i++) {
        if (this.text.charCodeAt(i) === C.LF) {
          line++;
          lineStart = i + 1;
        }
      }
    }
    throw new EdnSyntaxError(reason, line, pos - lineStart + 1);
  }

  /** Skips whitespace, commas, comments and `#_` discarded forms. Returns the next char code or -1. */
  skip(): number {
    const text = this.text;
    const n = text.length;
    while (this.pos < n) {
      const c = text.charCodeAt(this.pos);
      if (c === C.LF) {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (isWhitespace(c)) {
        this.pos++;
      } else if (c === C.SEMI) {
        while (this.pos < n && text.charCodeAt(this.pos) !== C.LF) this.pos++;
      } else if (c === C.HASH && text.charCodeAt(this.pos + 1) === C.UNDERSCORE) {
        this.pos += 2;
        this.readForm();
      } else {
        return c;
      }
    }
    return -1;
  }

  readForm(): EdnValue {
    const c = this.skip();
    if (c === -1) this.fail('unexpected end of input: expected a value');
    const text = this.text;
    switch (c) {
      case C.LBRACKET:
      case C.LPAREN:
        this.pos++;
        return this.readSeq(c === C.LBRACKET ? C.RBRACKET : C.RPAREN);
      case C.LBRACE:
        this.pos++;
        return this.readMap();
      case C.QUOTE:
        return this.readString();
      case C.COLON:
        return this.readKeyword();
      case C.BACKSLASH:
        return this.readChar();
      case C.HASH: {
        const d = text.charCodeAt(this.pos + 1);
        if (d === C.LBRACE) {
          this.pos += 2;
          return new Set(this.readSeq(C.RBRACE));
        }
        if (d === C.HASH) {
          this.pos += 2;
          const tok = this.readToken();
          if (tok === 'Inf') return Infinity;
          if (tok === '-Inf') return -Infinity;
          if (tok === 'NaN') return NaN;
          this.fail(`unknown symbolic value ##${tok}`);
        }
        this.pos++;
        const start = this.pos;
        const tag = this.readToken();
        if (!SYMBOL_RE.test(tag)) this.fail(`invalid tag #${tag}`, start);
        return new Tagged(tag, this.readForm());
      }
      case C.RPAREN:
      case C.RBRACKET:
      case C.RBRACE:
        return this.fail(`unexpected '${CLOSERS[c]}'`);
      default:
        return this.readAtom();
    }
  }

  readSeq(close: number): EdnValue[] {
    const out: EdnValue[] = [];
    const open = this.pos - 1;
    for (;;) {
      const c = this.skip();
      if (c === -1) this.fail(`unclosed '${String.fromCharCode(this.text.charCodeAt(open))}'`, open);
      if (c === close) {
        this.pos++;
        return out;
      }
      if (c === C.RPAREN || c === C.RBRACKET || c === C.RBRACE) {
        this.fail(`expected '${CLOSERS[close]}' but found '${CLOSERS[c]}'`);
      }
      out.push(this.readForm());
    }
  }

  readMap(): EdnValue {
    const open = this.pos - 1;
    const keys: EdnValue[] = [];
    const vals: EdnValue[] = [];
    let allKeywords = true;
    for (;;) {
      let c = this.skip();
      if (c === -1) this.fail(`unclosed '{'`, open);
      if (c === C.RBRACE) {
        this.pos++;
        break;
      }
      const k = this.readForm();
      c = this.skip();
      if (c === C.RBRACE || c === -1) this.fail(`map has a key with no value: ${writeEdn(k)}`);
      const v = this.readForm();
      if (!(k instanceof Keyword)) allKeywords = false;
      keys.push(k);
      vals.push(v);
    }
    if (allKeywords) {
      const obj: { [key: string]: EdnValue } = {};
      for (let i = 0; i < keys.length; i++) obj[(keys[i] as Keyword).name] = vals[i] as EdnValue;
      return obj;
    }
    const m = new Map<EdnValue, EdnValue>();
    for (let i = 0; i < keys.length; i++) m.set(keys[i] as EdnValue, vals[i] as EdnValue);
    return m;
  }

  readString(): string {
    const text = this.text;
    const start = this.pos;
    this.pos++;
    let out = '';
    let chunk = this.pos;
    for (;;) {
      if (this.pos >= text.length) this.fail('unterminated string', start);
      const c = text.charCodeAt(this.pos);
      if (c === C.QUOTE) {
        out += text.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c === C.LF) {
        this.line++;
        this.lineStart = this.pos + 1;
      }
      if (c === C.BACKSLASH) {
        out += text.slice(chunk, this.pos);
        const e = text[this.pos + 1];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case 'u': {
            const hex = text.slice(this.pos + 2, this.pos + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(`bad unicode escape \\u${hex}`);
            out += String.fromCharCode(parseInt(hex, 16));
            this.pos += 4;
            break;
          }
          default:
            this.fail(`unknown escape \\${e ?? ''} in string`);
        }
        this.pos += 2;
        chunk = this.pos;
        continue;
      }
      this.pos++;
    }
  }

  readToken(): string {
    const text = this.text;
    const start = this.pos;
    while (this.pos < text.length && !isDelimiter(text.charCodeAt(this.pos))) this.pos++;
    return text.slice(start, this.pos);
  }

  readKeyword(): Keyword {
    const start = this.pos;
    this.pos++;
    const name = this.readToken();
    const known = Keyword.find(name);
    if (known !== undefined) return known;
    if (name === '' || !SYMBOL_RE.test(name.startsWith(':') ? name.slice(1) : name)) {
      this.fail(`invalid keyword :${name}`, start);
    }
    return Keyword.of(name);
  }

  readChar(): string {
    const start = this.pos;
    this.pos++;
    // A character literal is one char, possibly a delimiter itself (\( or \space).
    const first = this.text[this.pos];
    if (first === undefined) this.fail('unexpected end of input after \\', start);
    this.pos++;
    const rest = this.readToken();
    const tok = first + rest;
    if (tok.length === 1) return tok;
    const named = NAMED_CHARS[tok];
    if (named !== undefined) return named;
    if (/^u[0-9a-fA-F]{4}$/.test(tok)) return String.fromCharCode(parseInt(tok.slice(1), 16));
    this.fail(`unknown character literal \\${tok}`, start);
  }

  readAtom(): EdnValue {
    const start = this.pos;
    const tok = this.readToken();
    if (tok === '') this.fail(`unexpected character '${this.text[start] ?? ''}'`, start);
    const c = tok.charCodeAt(0);
    const d = tok.charCodeAt(1);
    // Fast path: a plain non-negative integer of up to 15 digits.
    if (c >= C.ZERO && c <= C.NINE && tok.length < 16 && (c !== C.ZERO || tok.length === 1)) {
      let n = 0;
      let i = 0;
      for (; i < tok.length; i++) {
        const x = tok.charCodeAt(i) - C.ZERO;
        if (x < 0 || x > 9) break;
        n = n * 10 + x;
      }
      if (i === tok.length) return n;
    }
    if (
      (c >= C.ZERO && c <= C.NINE) ||
      ((c === C.PLUS || c === C.MINUS) && d >= C.ZERO && d <= C.NINE)
    ) {
      if (INT_RE.test(tok)) {
        const digits = tok.endsWith('N') ? tok.slice(0, -1) : tok;
        const n = Number(digits);
        if (Number.isSafeInteger(n) && !tok.endsWith('N')) return n;
        return Number.isSafeInteger(n) ? n : BigInt(digits);
      }
      if (FLOAT_RE.test(tok)) return Number(tok.endsWith('M') ? tok.slice(0, -1) : tok);
      this.fail(`invalid number ${tok}`, start);
    }
    if (tok === 'nil') return null;
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    if (!SYMBOL_RE.test(tok)) this.fail(`invalid symbol ${tok}`, start);
    return new EdnSymbol(tok);
  }
}

/** Parses exactly one EDN value from `text` (surrounding whitespace and comments allowed). */
export function parseEdn(text: string): EdnValue {
  const r = new Reader(text);
  const v = r.readForm();
  if (r.skip() !== -1) r.fail('unexpected text after the value');
  return v;
}

/**
 * Parses a history file's forms: either a sequence of top-level forms (Jepsen's `history.edn`,
 * one map per line) or a single top-level vector or list (Knossos' data files), whose elements
 * are then returned. Each form comes with the line it starts on.
 */
export function parseEdnForms(text: string): EdnForm[] {
  const r = new Reader(text);
  const forms: EdnForm[] = [];
  let c = r.skip();
  if (c === C.LBRACKET || c === C.LPAREN) {
    const close = c === C.LBRACKET ? C.RBRACKET : C.RPAREN;
    const open = r.pos;
    r.pos++;
    for (;;) {
      c = r.skip();
      if (c === -1) r.fail(`unclosed '${String.fromCharCode(text.charCodeAt(open))}'`, open);
      if (c === close) {
        r.pos++;
        break;
      }
      const line = r.line;
      forms.push({ value: r.readForm(), line });
    }
    if (r.skip() !== -1) r.fail('unexpected text after the top-level collection');
    return forms;
  }
  while (c !== -1) {
    const line = r.line;
    forms.push({ value: r.readForm(), line });
    c = r.skip();
  }
  return forms;
}

const KEYWORD_NAME_RE = /^[A-Za-z*!_?$%&=<>.+\-][A-Za-z0-9*!_?$%&=<>.+\-:#'/]*$/;

function writeString(s: string): string {
  return JSON.stringify(s);
}

function writeNumber(n: number): string {
  if (Number.isNaN(n)) return '##NaN';
  if (n === Infinity) return '##Inf';
  if (n === -Infinity) return '##-Inf';
  return String(n);
}

/**
 * Writes `value` as EDN text on one line. Plain objects become maps with keyword keys (when the
 * key is a valid keyword name; otherwise a string key); `undefined` becomes `nil`.
 */
export function writeEdn(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return writeNumber(value);
    case 'bigint':
      return `${value}N`;
    case 'string':
      return writeString(value);
    case 'object':
      break;
    default:
      return writeString(String(value));
  }
  if (value instanceof Keyword) return value.toString();
  if (value instanceof EdnSymbol) return value.name;
  if (value instanceof Tagged) return `#${value.tag} ${writeEdn(value.value)}`;
  if (Array.isArray(value)) return `[${value.map(writeEdn).join(' ')}]`;
  if (value instanceof Set) return `#{${[...value].map(writeEdn).join(' ')}}`;
  if (value instanceof Map) {
    return `{${[...value].map(([k, v]) => `${writeEdn(k)} ${writeEdn(v)}`).join(', ')}}`;
  }
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    parts.push(`${KEYWORD_NAME_RE.test(k) ? `:${k}` : writeString(k)} ${writeEdn(v)}`);
  }
  return `{${parts.join(', ')}}`;
}
