// Text from files and models, made safe to print on a terminal: control characters (an escape
// sequence in a trace label could rewrite the screen) are shown escaped, and long fields are
// cut (a 100 MB model name must not come back as one error line).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escapeChar = (c: string) => {
  const n = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};

export const FIELD_LIMIT = 200;

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** One field for one line: every control character escaped (newlines too), at most `max` chars. */
export function quoteField(s: string, max = FIELD_LIMIT): string {
  return cut(s.slice(0, max + 1).replace(CONTROL_ALL, escapeChar), max);
}

/** Multi-line output (a swim lane): keeps newlines and tabs, escapes every other control. */
export function safeText(s: string): string {
  return s.replace(CONTROL, escapeChar);
}

/** One error line as printed: no control characters, at most `max` characters. */
export function safeLine(s: string, max = 1000): string {
  return quoteField(s, max);
}
