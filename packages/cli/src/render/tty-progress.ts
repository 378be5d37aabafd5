import { formatElapsed } from './format.js'

/** The part of a terminal stream the live step list writes to. */
export interface TtyStream {
  write(text: string): unknown
  readonly columns?: number | undefined
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const
const CLEAR_LINE = '\r\u001b[2K'
const UP_AND_CLEAR = '\u001b[1A\u001b[2K'

/**
 * A live step list on a terminal: each running step is one line at the bottom with a spinner and
 * its elapsed time; a finished step becomes a permanent `✓`/`✗` line with how long it took. Any
 * other line is written above the running ones, so nothing printed meanwhile is overwritten.
 * Lines are cut to the terminal width: a wrapped line would break the redraw.
 */
export class TtyProgress {
  readonly #out: TtyStream
  readonly #now: () => number
  readonly #intervalMs: number
  readonly #running = new Map<string, { readonly text: string; readonly since: number }>()
  #drawn = 0
  #frame = 0
  #timer: NodeJS.Timeout | undefined
  #firstAt: number | undefined

  constructor(out: TtyStream, options: { now?: () => number; intervalMs?: number } = {}) {
    this.#out = out
    this.#now = options.now ?? Date.now
    this.#intervalMs = options.intervalMs ?? 80
  }

  /** Milliseconds since the first step started (undefined before that). */
  get elapsedMs(): number | undefined {
    return this.#firstAt === undefined ? undefined : this.#now() - this.#firstAt
  }

  /** Shows `key` as running (a spinner line) from now on. */
  start(key: string, text: string): void {
    const now = this.#now()
    this.#firstAt ??= now
    this.#clear()
    this.#running.set(key, { text, since: now })
    this.#draw()
    this.#timer ??= setInterval(() => this.tick(), this.#intervalMs).unref()
  }

  /** Ends `key`: a permanent line with `mark`, its text (or `text`) and its time (or `elapsedMs`). */
  finish(key: string, mark: '✓' | '✗', text?: string, elapsedMs?: number): void {
    const step = this.#running.get(key)
    this.#running.delete(key)
    const took = elapsedMs ?? (step ? this.#now() - step.since : undefined)
    const label = text ?? step?.text ?? key
    this.line(`${mark} ${label}${took === undefined ? '' : `  ${formatElapsed(took)}`}`)
    if (this.#running.size === 0) this.#stopTimer()
  }

  /** Writes `text` (one or more lines) above the running steps, to this stream or to `to`. */
  line(text: string, to: TtyStream = this.#out): void {
    this.#clear()
    to.write(`${text}\n`)
    this.#draw()
  }

  /** Advances the spinners one frame (the timer calls it; tests may too). */
  tick(): void {
    this.#frame += 1
    this.#clear()
    this.#draw()
  }

  /** Stops the spinners and removes their lines; the permanent lines stay. */
  stop(): void {
    this.#stopTimer()
    this.#clear()
    this.#running.clear()
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  #clear(): void {
    if (this.#drawn === 0) return
    this.#out.write(CLEAR_LINE + UP_AND_CLEAR.repeat(this.#drawn - 1))
    this.#drawn = 0
  }

  #draw(): void {
    if (this.#running.size === 0) return
    const frame = FRAMES[this.#frame % FRAMES.length] ?? ''
    const width = Math.max(20, (this.#out.columns ?? 80) - 1)
    const now = this.#now()
    const lines = [...this.#running.values()].map((step) =>
      cut(`${frame} ${step.text} … ${formatElapsed(now - step.since)}`, width),
    )
    this.#out.write(lines.join('\n'))
    this.#drawn = lines.length
  }
}

function cut(text: string, width: number): string {
  const chars = [...text]
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`
}
