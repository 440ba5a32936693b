// Package logx writes log lines with a fake, deterministic clock so that the
// generated corpus is stable between regenerations.
package logx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Start is the fake wall-clock time of the first log line.
var Start = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// Clock advances by Step on every call to Now.
type Clock struct {
	mu   sync.Mutex
	t    time.Time
	Step time.Duration
}

// NewClock returns a clock starting at start.
func NewClock(start time.Time, step time.Duration) *Clock {
	return &Clock{t: start, Step: step}
}

// Now returns the current fake time and advances the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.Step)
	return t
}

// Default is the clock used by the package-level loggers.
var Default = NewClock(Start, 7*time.Millisecond)

// Format selects the line format.
type Format int

const (
	Logfmt Format = iota
	JSON
	Plain
)

// Logger writes one line per call.
type Logger struct {
	mu     sync.Mutex
	w      io.Writer
	format Format
	clock  *Clock
}

// New returns a logger writing to w.
func New(w io.Writer, f Format) *Logger {
	return &Logger{w: w, format: f, clock: Default}
}

// Stderr is a logfmt logger on stderr.
var Stderr = New(os.Stderr, Logfmt)

func (l *Logger) Info(msg string, kv ...any)  { l.log("info", msg, kv...) }
func (l *Logger) Warn(msg string, kv ...any)  { l.log("warn", msg, kv...) }
func (l *Logger) Error(msg string, kv ...any) { l.log("error", msg, kv...) }
func (l *Logger) Debug(msg string, kv ...any) { l.log("debug", msg, kv...) }

func (l *Logger) log(level, msg string, kv ...any) {
	ts := l.clock.Now().Format("2006-01-02T15:04:05.000Z07:00")
	var b bytes.Buffer
	switch l.format {
	case JSON:
		b.WriteString(`{"time":"` + ts + `","level":"` + level + `","msg":`)
		m, _ := json.Marshal(msg)
		b.Write(m)
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := json.Marshal(fmt.Sprint(kv[i]))
			v, err := json.Marshal(kv[i+1])
			if err != nil {
				v, _ = json.Marshal(fmt.Sprint(kv[i+1]))
			}
			b.WriteByte(',')
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteString("}\n")
	case Plain:
		b.WriteString(ts + " " + strings.ToUpper(level) + " " + msg)
		for i := 0; i+1 < len(kv); i += 2 {
			fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
		}
		b.WriteByte('\n')
	default:
		b.WriteString("time=" + ts + " level=" + level + " msg=" + quote(msg))
		for i := 0; i+1 < len(kv); i += 2 {
			fmt.Fprintf(&b, " %v=%s", kv[i], quote(fmt.Sprint(kv[i+1])))
		}
		b.WriteByte('\n')
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(b.Bytes())
}

func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \"=") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// Tagged writes `<RFC3339 ms> [layer:intent:frame] message` lines.
type Tagged struct {
	mu    sync.Mutex
	w     io.Writer
	clock *Clock
}

// NewTagged returns a tagged-line logger.
func NewTagged(w io.Writer) *Tagged { return &Tagged{w: w, clock: Default} }

// Line writes one line; tag is written verbatim between brackets.
func (t *Tagged) Line(tag, format string, args ...any) {
	ts := t.clock.Now().Format("2006-01-02T15:04:05.000Z07:00")
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%s [%s] %s\n", ts, tag, fmt.Sprintf(format, args...))
}

// Raw writes `<RFC3339 ms> <text>` without a tag.
func (t *Tagged) Raw(format string, args ...any) {
	ts := t.clock.Now().Format("2006-01-02T15:04:05.000Z07:00")
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%s %s\n", ts, fmt.Sprintf(format, args...))
}

// StdlogWriter is an io.Writer for the standard "log" package (LstdFlags):
// it replaces the real "2006/01/02 15:04:05 " prefix of each write with the
// fake clock so that output is deterministic.
type StdlogWriter struct {
	W     io.Writer
	Clock *Clock
}

func (s StdlogWriter) Write(p []byte) (int, error) {
	const layout = "2006/01/02 15:04:05 "
	if len(p) >= len(layout) && p[4] == '/' && p[7] == '/' && p[13] == ':' {
		ts := s.Clock.Now().Format(layout)
		q := append([]byte(ts), p[len(layout):]...)
		if _, err := s.W.Write(q); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return s.W.Write(p)
}
