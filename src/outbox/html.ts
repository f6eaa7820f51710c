/**
 * HTML that escapes every value by construction: `html` is a tagged template whose
 * interpolations are escaped unless they are already {@link SafeHTML} (the output of another
 * `html` template). A template cannot forget to escape a value; it can only nest templates.
 */

/** A fragment of HTML built by {@link html}; the only kind of value inserted unescaped. */
export class SafeHTML {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for an HTML element or a quoted attribute value.
 *
 * @example
 * escapeHTML('<b>"x"</b>'); // '&lt;b&gt;&quot;x&quot;&lt;/b&gt;'
 */
export function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

type HTMLValue = string | number | SafeHTML | readonly SafeHTML[];

/**
 * The tagged template.
 *
 * @example
 * html`<a href="${link}">${productName}</a>`; // both escaped
 */
export function html(strings: TemplateStringsArray, ...values: HTMLValue[]): SafeHTML {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    const text =
      value instanceof SafeHTML
        ? value.text
        : Array.isArray(value)
          ? (value as readonly SafeHTML[]).map((part) => part.text).join('')
          : escapeHTML(String(value));
    out += text + (strings[index + 1] ?? '');
  });
  return new SafeHTML(out);
}
