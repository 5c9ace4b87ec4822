// HTTP optional whitespace (RFC 9110 OWS: space and horizontal tab). Header values arrive with it
// around fields and separators; String.prototype.trim would also strip line breaks and Unicode
// spaces, which are not legal in a header and should keep a value from parsing.

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** `text[start..end)` without leading and trailing spaces and tabs. */
export function trimOws(text: string, start = 0, end = text.length): string {
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}
