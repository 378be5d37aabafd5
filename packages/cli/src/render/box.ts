/**
 * The ready summary on a terminal: the lines before the first blank one (what is reachable and
 * how) in a rounded box; the rest (`export …` lines, "Press Ctrl+C") below it, unboxed, so they
 * can be copied as they are.
 */
export function boxSummary(lines: readonly string[]): string[] {
  const blank = lines.indexOf('')
  const inside = blank === -1 ? lines : lines.slice(0, blank)
  const after = blank === -1 ? [] : lines.slice(blank)
  if (inside.length === 0) return [...after]
  const width = Math.max(...inside.map((line) => [...line].length))
  return [
    `╭${'─'.repeat(width + 2)}╮`,
    ...inside.map((line) => `│ ${line}${' '.repeat(width - [...line].length)} │`),
    `╰${'─'.repeat(width + 2)}╯`,
    ...after,
  ]
}
