package main

import (
	"fmt"
	"net/http"
	"strings"
)

// headerFlags collects repeated `--header 'Name: value'` flags, curl style.
type headerFlags struct{ values []string }

func (h *headerFlags) String() string { return strings.Join(h.values, ", ") }

func (h *headerFlags) Set(value string) error {
	name, _, found := strings.Cut(value, ":")
	if !found || strings.TrimSpace(name) == "" {
		return fmt.Errorf("header %q is not 'Name: value'", value)
	}
	h.values = append(h.values, value)
	return nil
}

// header turns the flags into an http.Header; a Host header sets the request's host instead.
func (h *headerFlags) header() (http.Header, string) {
	out := http.Header{}
	host := ""
	for _, v := range h.values {
		name, value, _ := strings.Cut(v, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if strings.EqualFold(name, "host") {
			host = value
			continue
		}
		out.Add(name, value)
	}
	return out, host
}

// stringList collects a repeated string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
