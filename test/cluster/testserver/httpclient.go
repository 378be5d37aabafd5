package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"time"
)

// One response, as http-client prints it (a JSON line each).
type httpResult struct {
	Request  int    `json:"request"`
	Status   int    `json:"status"`
	Reused   bool   `json:"reused"`
	Local    string `json:"local"`
	ServedBy string `json:"servedBy"`
	Body     string `json:"body"`
	// From sending the request to the end of the body, in microseconds (for the benches).
	LatencyUs int64 `json:"latencyUs"`
}

func runHTTPClient(args []string) error {
	fs := flag.NewFlagSet("http-client", flag.ContinueOnError)
	url := fs.String("url", "", "the URL to GET")
	count := fs.Int("count", 3, "how many requests to send, one after another")
	quiet := fs.Bool("quiet", false, "leave the body out of each line (long runs for the benches)")
	timeout := fs.Duration("timeout", 5*time.Second, "deadline of each request, connecting included")
	var headers headerFlags
	fs.Var(&headers, "header", "a request header 'Name: value' (repeatable)")
	alternate := fs.Bool("alternate", false, "send the --header values on odd-numbered requests only (1, 3, …); the even ones go without")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" || *count < 1 {
		return errors.New("http-client: give --url and a --count of at least 1")
	}
	header, host := headers.header()

	// One idle connection at most, HTTP/1.1 only and no proxy from the environment: whether the
	// second request reuses the first one's connection is then up to the path in between alone.
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: *timeout}).DialContext,
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		IdleConnTimeout:     time.Minute,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	client := &http.Client{Transport: transport, Timeout: *timeout}
	out := json.NewEncoder(os.Stdout)
	for i := 1; i <= *count; i++ {
		result := httpResult{Request: i}
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			result.Reused = info.Reused
			result.Local = info.Conn.LocalAddr().String()
		}}
		req, err := http.NewRequest(http.MethodGet, *url, nil)
		if err != nil {
			return fmt.Errorf("http-client: %w", err)
		}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		if !*alternate || i%2 == 1 {
			req.Header = header.Clone()
		}
		if host != "" {
			req.Host = host
		}
		started := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("http-client: request %d: %w", i, err)
		}
		// Read to the end and close, or the connection cannot go back to the pool for the next one.
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("http-client: request %d: reading the body: %w", i, err)
		}
		result.LatencyUs = time.Since(started).Microseconds()
		result.Status, result.ServedBy, result.Body = resp.StatusCode, resp.Header.Get("X-Served-By"), string(body)
		if *quiet {
			result.Body = ""
		}
		if err := out.Encode(result); err != nil {
			return err
		}
	}
	return nil
}
