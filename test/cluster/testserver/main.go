// ktx-testserver is the e2e suites' own server and clients: one HTTP/1.1, WebSocket and gRPC server
// that says which instance answered, and clients that report what a router in between did (did a
// keep-alive connection survive, which server echoed). Built static and shipped in an image, so the
// same binary runs on the "laptop" and in a pod.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

const usage = `usage: ktx-testserver COMMAND [flags]

commands:
  serve        HTTP/1.1 on --http (name, path, peer and request headers echoed; WebSocket echo at /ws)
               and gRPC on --grpc (health + reflection; every response carries x-served-by: NAME)
  http-client  several GETs of --url on one keep-alive connection; one JSON line per response
  ws-client    opens a WebSocket to --url, sends each --send message and prints each echo
  version      prints the version
`

// The binary has no releases: tools.sh keys its cache and image by a hash of these sources.
const version = "ktx-testserver (source-hashed build)"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = runServe(args)
	case "http-client":
		err = runHTTPClient(args)
	case "ws-client":
		err = runWSClient(args)
	case "version":
		fmt.Println(version)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "ktx-testserver: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ktx-testserver: %v\n", err)
		os.Exit(1)
	}
}
