package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
)

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	httpAddr := fs.String("http", ":8080", "HTTP/1.1 and WebSocket listen address (empty: none)")
	grpcAddr := fs.String("grpc", ":9090", "gRPC listen address (empty: none)")
	hostname, _ := os.Hostname()
	name := fs.String("name", hostname, "the name every answer carries")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *httpAddr == "" && *grpcAddr == "" {
		return errors.New("serve: give --http or --grpc (or both)")
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	failed := make(chan error, 2)
	ports := []string{}

	if *httpAddr != "" {
		ln, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			return fmt.Errorf("serve: HTTP listen on %s: %w", *httpAddr, err)
		}
		server := &http.Server{Handler: httpHandler(*name), ReadHeaderTimeout: 10 * time.Second}
		go func() { failed <- server.Serve(ln) }()
		defer server.Close()
		ports = append(ports, fmt.Sprintf("http=%d", ln.Addr().(*net.TCPAddr).Port))
	}
	if *grpcAddr != "" {
		ln, err := net.Listen("tcp", *grpcAddr)
		if err != nil {
			return fmt.Errorf("serve: gRPC listen on %s: %w", *grpcAddr, err)
		}
		server := grpcServer(*name)
		go func() { failed <- server.Serve(ln) }()
		defer server.Stop()
		ports = append(ports, fmt.Sprintf("grpc=%d", ln.Addr().(*net.TCPAddr).Port))
	}
	// The readiness line: printed only once every listener is bound, so a caller can wait for it.
	fmt.Printf("listening %s name=%s\n", strings.Join(ports, " "), *name)

	select {
	case <-ctx.Done():
		return nil
	case err := <-failed:
		return fmt.Errorf("serve: %w", err)
	}
}

// httpHandler answers `/` (and every path but /ws) with the server's name, the request's path and
// peer address, and its headers, one per line, sorted; /ws is a WebSocket echo.
func httpHandler(name string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ws", wsEcho(name))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		fmt.Fprintf(&b, "name=%s\n", name)
		fmt.Fprintf(&b, "path=%s\n", r.URL.RequestURI())
		fmt.Fprintf(&b, "proto=%s\n", r.Proto)
		fmt.Fprintf(&b, "remote=%s\n", r.RemoteAddr)
		fmt.Fprintf(&b, "host=%s\n", r.Host)
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range r.Header[k] {
				fmt.Fprintf(&b, "header %s: %s\n", k, v)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Served-By", name)
		_, _ = w.Write([]byte(b.String()))
	})
	return mux
}

// wsEcho echoes every message back, prefixed with "NAME: ", so the client sees who answered.
func wsEcho(name string) http.Handler {
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, http.Header{"X-Served-By": {name}})
		if err != nil {
			return // Upgrade has already answered with an HTTP error.
		}
		defer conn.Close()
		for {
			kind, message, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(kind, append([]byte(name+": "), message...)); err != nil {
				return
			}
		}
	})
}

// grpcServer serves the standard health service and reflection (so grpcurl needs no .proto files).
// Every call's response headers carry `x-served-by: NAME` (grpcurl -v prints them), and the health
// service knows one service name besides "": NAME itself, so a check for it is SERVING only here.
func grpcServer(name string) *grpc.Server {
	servedBy := metadata.Pairs("x-served-by", name)
	server := grpc.NewServer(
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			_ = grpc.SetHeader(ctx, servedBy)
			return handler(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			_ = ss.SetHeader(servedBy)
			return handler(srv, ss)
		}),
	)
	healthService := health.NewServer()
	healthService.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthService.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(server, healthService)
	reflection.Register(server)
	return server
}
