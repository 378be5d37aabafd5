import type { Socket } from 'node:net'

import type { ServerChannel } from 'ssh2'

const NOTHING = Buffer.alloc(0)

/**
 * Joins a caller's socket (accepted on a `tcpip-forward` listener) with its `forwarded-tcpip`
 * channel, keeping TCP's half-close.
 *
 * ssh2 closes a server-side channel as soon as the channel's writable side finishes. A caller that
 * sends its request and then half-closes (FIN) would have its whole connection closed before the
 * laptop answered. So the caller's FIN travels as a bare CHANNEL_EOF (`channel.eof()`), sent once
 * everything the caller wrote before it has gone out, and the channel stays open for the reply; the
 * laptop's EOF ends the socket's writable side as usual.
 *
 * Both are destroyed once the socket has closed (both directions done, or cut off), the channel
 * was cut off, or either errors: no socket lingers in CLOSE_WAIT (ktctl's #382).
 */
export function joinInbound(channel: ServerChannel, socket: Socket): void {
  let finished = false
  let socketClosed = false
  let eofSent = false
  const finish = (): void => {
    if (finished) return
    finished = true
    socket.destroy()
    // ssh2's destroy() ends the writable side and sends CHANNEL_CLOSE.
    channel.destroy()
  }
  const sendEof = (): void => {
    // Writes complete in order, so this callback runs after the caller's last bytes went out.
    channel.write(NOTHING, () => {
      channel.eof()
      eofSent = true
      if (socketClosed) finish()
    })
  }
  socket.pipe(channel, { end: false })
  // A caller that connected and left at once may have ended while its socket waited, paused, for
  // the channel to open: then 'end' has already been emitted and will not come again.
  if (socket.readableEnded) sendEof()
  else socket.once('end', sendEof)
  channel.pipe(socket)
  socket.once('error', finish)
  channel.once('error', finish)
  socket.once('close', () => {
    socketClosed = true
    // A reset ends it now; a normal close first lets the caller's last bytes and EOF reach the laptop.
    if (!socket.readableEnded || eofSent) finish()
  })
  channel.once('close', () => {
    // A close after the laptop's EOF leaves only the flush of the reply to the caller.
    if (!channel.readableEnded) finish()
    else if (socket.writableFinished) finish()
    else socket.once('finish', finish)
  })
}
