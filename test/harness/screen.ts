/**
 * What a terminal would show for a stream of bytes: replays the few controls ktx's live step list
 * uses (`\r`, `\n`, erase line `ESC[2K`, cursor up `ESC[nA`); other escape sequences are dropped.
 * Lets a test assert on the screen a user saw rather than on raw redraw bytes.
 */
export function screenOf(raw: string): string[] {
  const lines: string[] = ['']
  let row = 0
  let col = 0
  const put = (char: string): void => {
    const line = [...(lines[row] ?? '')]
    while (line.length < col) line.push(' ')
    line[col] = char
    lines[row] = line.join('')
    col += 1
  }
  const ESC = '\u001b'
  const BEL = '\u0007'
  const controls = new RegExp(
    `${ESC}\\[(\\d*)([A-Za-z])|${ESC}\\][^${BEL}]*${BEL}|\\r\\n|[\\r\\n]|[^\\r\\n${ESC}]`,
    'gu',
  )
  for (const match of raw.matchAll(controls)) {
    const [token, count, command] = match
    if (command === 'A') {
      row = Math.max(0, row - (count === undefined || count === '' ? 1 : Number(count)))
    } else if (command === 'K') {
      lines[row] = count === '2' ? '' : [...(lines[row] ?? '')].slice(0, col).join('')
    } else if (command !== undefined || token.startsWith('\u001b')) {
      // colours, cursor visibility: nothing to show
    } else if (token === '\r') {
      col = 0
    } else if (token === '\n' || token === '\r\n') {
      row += 1
      col = 0
      lines[row] ??= ''
    } else {
      put(token)
    }
  }
  while (lines.length > 0 && lines.at(-1) === '') lines.pop()
  return lines.map((line) => line.trimEnd())
}
