package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
)

func runWSClient(args []string) error {
	fs := flag.NewFlagSet("ws-client", flag.ContinueOnError)
	url := fs.String("url", "", "the ws:// URL to open")
	timeout := fs.Duration("timeout", 5*time.Second, "deadline of the handshake and of each echo")
	var headers headerFlags
	var messages stringList
	fs.Var(&headers, "header", "a handshake header 'Name: value' (repeatable)")
	fs.Var(&messages, "send", "a text message to send (repeatable; each echo is printed on its own line)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" || len(messages) == 0 {
		return errors.New("ws-client: give --url and at least one --send")
	}
	header, host := headers.header()
	if host != "" {
		header.Set("Host", host)
	}
	dialer := websocket.Dialer{HandshakeTimeout: *timeout}
	conn, resp, err := dialer.Dial(*url, header)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("ws-client: handshake with %s: %w (HTTP %s)", *url, err, resp.Status)
		}
		return fmt.Errorf("ws-client: handshake with %s: %w", *url, err)
	}
	defer conn.Close()
	for _, message := range messages {
		_ = conn.SetWriteDeadline(time.Now().Add(*timeout))
		if err := conn.WriteMessage(websocket.TextMessage, []byte(message)); err != nil {
			return fmt.Errorf("ws-client: sending %q: %w", message, err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(*timeout))
		_, echo, err := conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("ws-client: waiting for the echo of %q: %w", message, err)
		}
		fmt.Println(string(echo))
	}
	_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	return nil
}
