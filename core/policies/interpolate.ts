import { ACTION_PARAMS, type PolicyAction, type PolicyAlert } from './model.js';

// `${label.x}` and `${annotation.x}` in a policy's parameters, replaced by the alert's values.
// The policy is written by an operator and trusted; the alert's values are not (anyone who can set
// a label on a scraped target chooses them), so a value that reaches a name or a command must be a
// plain token: no shell syntax, no spaces, no path traversal. A value that is not is refused, never
// quoted or escaped into something that might still be read as syntax.

const PLACEHOLDER = /\$\{(label|annotation)\.([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** Names and addresses: host names, pods, namespaces, services, IPs, ports (`host:9100`). */
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,252}$/;
const MAX_TEXT = 2000;

/** C0 controls but tab and newline, and DEL. */
function isControl(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return (code < 0x20 && ch !== '\t' && ch !== '\n') || code === 0x7f;
}

export class InterpolationError extends Error {
  override readonly name = 'InterpolationError';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/** The placeholders a string refers to, e.g. `label.instance`. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => `${m[1]}.${m[2]}`);
}

function valueOf(alert: PolicyAlert, source: string, name: string): string | undefined {
  return source === 'label' ? alert.labels[name] : alert.annotations[name];
}

/** Whether a value may stand as a name or a command argument. `..` as a path part is refused too. */
export function isSafeToken(value: string): boolean {
  return TOKEN.test(value) && !value.split('/').includes('..');
}

function replaceAll(param: string, template: string, alert: PolicyAlert, check: (value: string, ref: string) => void): string {
  return template.replace(PLACEHOLDER, (_match, source: string, name: string) => {
    const value = valueOf(alert, source, name);
    const ref = `${source}.${name}`;
    if (value === undefined || value === '') throw new InterpolationError(param, `the alert has no ${ref} for ${param}`);
    check(value, ref);
    return value;
  });
}

/**
 * The action's parameters with the alert's values in place, each checked for its kind (see
 * ACTION_PARAMS). Throws InterpolationError naming the parameter and the reason: a missing label,
 * a value with shell or path syntax, a count that is not a whole number.
 */
export function interpolateAction(action: PolicyAction, alert: PolicyAlert): Record<string, string | number | boolean> {
  const specs = ACTION_PARAMS[action.type];
  const out: Record<string, string | number | boolean> = {};
  for (const [param, spec] of Object.entries(specs)) {
    const raw = action.params[param];
    if (raw === undefined) {
      if (spec.required) throw new InterpolationError(param, `${action.type} needs the parameter ${param}`);
      continue;
    }
    if (spec.kind === 'flag') {
      if (typeof raw !== 'boolean') throw new InterpolationError(param, `${param} must be true or false`);
      out[param] = raw;
      continue;
    }
    if (typeof raw === 'number' && spec.kind === 'count' && Number.isInteger(raw) && raw >= 0) {
      out[param] = raw;
      continue;
    }
    if (typeof raw !== 'string')
      throw new InterpolationError(param, `${param} must be ${spec.kind === 'count' ? 'a whole number' : 'text'}`);
    const unsafe = (value: string, ref: string) => {
      if (!isSafeToken(value)) {
        throw new InterpolationError(
          param,
          `${ref} = ${JSON.stringify(value.slice(0, 80))} is not a plain name; it cannot go into ${param}`,
        );
      }
    };
    switch (spec.kind) {
      case 'token': {
        const value = replaceAll(param, raw, alert, unsafe);
        if (!isSafeToken(value))
          throw new InterpolationError(param, `${param} = ${JSON.stringify(value.slice(0, 80))} is not a plain name`);
        out[param] = value;
        break;
      }
      case 'command':
        // The command's own text is the operator's; only what the alert supplies must be a token.
        out[param] = replaceAll(param, raw, alert, unsafe);
        break;
      case 'count': {
        const value = replaceAll(param, raw, alert, () => undefined);
        if (!/^\d{1,6}$/.test(value))
          throw new InterpolationError(param, `${param} = ${JSON.stringify(value.slice(0, 80))} is not a whole number`);
        out[param] = Number(value);
        break;
      }
      case 'text': {
        // Free text reaches no shell, but control characters never belong in a title or a message.
        const value = replaceAll(param, raw, alert, () => undefined);
        out[param] = [...value]
          .map((ch) => (isControl(ch) ? ' ' : ch))
          .join('')
          .slice(0, MAX_TEXT);
        break;
      }
    }
  }
  for (const param of Object.keys(action.params)) {
    if (!(param in specs)) throw new InterpolationError(param, `${action.type} has no parameter ${param}`);
  }
  return out;
}
