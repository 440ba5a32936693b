// Command expectgen writes NN-name.expect.json for one generated corpus file.
//
// The hand-written spec (specs/NN-name.json) says which events the file holds
// and carries the judgement fields (category, fingerprint_group, notes); every
// countable field (goroutine counts, states, ids, root-cause frame, gc line
// counts, tagged-line counts, frame ids, leak counts) is read from the text
// here, so the expectations stay true after a regeneration. expectgen fails
// when the events it finds do not match the spec's list (type and order).
//
// It is deliberately simple and knows the shapes this generator produces; it
// is not a general parser.
//
//	expectgen -spec specs/01-x.json -txt out/01-x.txt -source "..." -out out/01-x.expect.json
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// ---- spec ----

type specEvent struct {
	Type             string `json:"type"`
	Category         string `json:"category"`
	FingerprintGroup string `json:"fingerprint_group"`
	// NoCrashingGoroutine: the runtime names no crashing goroutine (deadlock):
	// crashing_goroutine_id is written as null (root_cause still comes from the first goroutine printed).
	NoCrashingGoroutine bool   `json:"no_crashing_goroutine"`
	TopFunction         string `json:"top_function"`
	CreatedBy           string `json:"created_by"`
	WantHolder          bool   `json:"want_holder"`
}

type spec struct {
	Events      []specEvent `json:"events"`
	WantFrameID bool        `json:"want_frame_ids"`
	Notes       string      `json:"notes"`
}

// ---- ordered JSON object ----

type kv struct {
	k string
	v any
}

type obj []kv

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// ---- scanning ----

type frame struct {
	fn   string
	arg0 string
	file string
	line int
}

type goroutine struct {
	id        int
	state     string
	frames    []frame
	createdBy string
}

type event struct {
	typ         string // crash, goroutine_dump, gc, tagged_log
	recoverable bool
	panics      []string
	message     string
	signal      string
	gs          []*goroutine
	preamble    bool // before the first goroutine header
	inRtStack   bool
	gcCount     int
	gcForced    int
	tagCount    int
	tagIDs      []string
}

var (
	reHeader   = regexp.MustCompile(`^goroutine (\d+) \[(.*)\]:$`)
	reHTTP     = regexp.MustCompile(`http: panic serving (\S+): (.*)$`)
	reSigHdr   = regexp.MustCompile(`^(SIG[A-Z0-9]+): `)
	reSignal   = regexp.MustCompile(`^\[signal (SIG[A-Z0-9]+)`)
	reGC       = regexp.MustCompile(`(^|\s)gc \d+ @\d+\.\d+s \d+%: `)
	reTag      = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) \[(app|service|dao|infra):(read|write|validate|retry):([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\]( |$)`)
	reReg      = regexp.MustCompile(`^(r[a-z0-9]+|rip|rflags|cs|fs|gs)\s+0x[0-9a-f]+$`)
	reFileLine = regexp.MustCompile(`^\t(.*):(\d+)( \+0x[0-9a-f]+)?( fp=.*)?$`)
)

func isFuncLine(s string) bool {
	if s == "" || s[0] == ' ' || s[0] == '\t' || !strings.HasSuffix(s, ")") {
		return false
	}
	i := strings.IndexByte(s, '(')
	return i >= 0 && !strings.ContainsAny(s[:i], " \t")
}

func funcName(s string) (name, arg0 string) {
	i := strings.LastIndexByte(s, '(')
	name = s[:i]
	args := strings.TrimSuffix(s[i+1:], ")")
	arg0 = strings.TrimSuffix(strings.TrimSpace(strings.SplitN(args, ",", 2)[0]), "?")
	return name, arg0
}

func scan(lines []string) []*event {
	var out []*event
	var cur *event       // open crash / dump event
	var tags *event      // open tagged_log run
	var gc *event        // the single gc event
	var g *goroutine     // open goroutine section
	var pendingFn *frame // function line waiting for its file line
	closeCur := func() {
		cur, g, pendingFn = nil, nil, nil
	}
	startCur := func(e *event) {
		closeCur()
		tags = nil
		cur = e
		out = append(out, e)
	}
	for _, ln := range lines {
		switch {
		case reGC.MatchString(ln):
			closeCur()
			if gc == nil {
				gc = &event{typ: "gc"}
				out = append(out, gc)
			}
			gc.gcCount++
			if strings.HasSuffix(ln, " (forced)") {
				gc.gcForced++
			}
			continue
		case reTag.MatchString(ln):
			closeCur()
			if tags == nil {
				tags = &event{typ: "tagged_log"}
				out = append(out, tags)
			}
			tags.tagCount++
			tags.tagIDs = append(tags.tagIDs, reTag.FindStringSubmatch(ln)[5])
			continue
		case strings.HasPrefix(ln, "panic: "):
			v := strings.TrimSuffix(strings.TrimPrefix(ln, "panic: "), " [recovered]")
			startCur(&event{typ: "crash", recoverable: true, panics: []string{v}, preamble: true})
			continue
		case strings.HasPrefix(ln, "\tpanic: ") && cur != nil && cur.preamble && cur.typ == "crash":
			cur.panics = append(cur.panics, strings.TrimSuffix(strings.TrimPrefix(ln, "\tpanic: "), " [recovered]"))
			continue
		case strings.HasPrefix(ln, "fatal error: "):
			v := strings.TrimPrefix(ln, "fatal error: ")
			if cur != nil && cur.typ == "crash" && cur.preamble && cur.panics == nil {
				cur.panics = []string{v}
			} else {
				startCur(&event{typ: "crash", panics: []string{v}, preamble: true})
			}
			continue
		case strings.HasPrefix(ln, "runtime: goroutine stack exceeds"), strings.HasPrefix(ln, "runtime: out of memory"):
			startCur(&event{typ: "crash", preamble: true})
			continue
		case reHTTP.MatchString(ln):
			m := reHTTP.FindStringSubmatch(ln)
			startCur(&event{typ: "crash", recoverable: true, panics: []string{m[2]}, preamble: true})
			continue
		case reSigHdr.MatchString(ln):
			sig := reSigHdr.FindStringSubmatch(ln)[1]
			if sig == "SIGQUIT" {
				startCur(&event{typ: "goroutine_dump", signal: sig, preamble: true})
			} else {
				startCur(&event{typ: "crash", signal: sig, panics: []string{ln}, preamble: true})
			}
			continue
		}
		if m := reHeader.FindStringSubmatch(ln); m != nil {
			if cur == nil {
				startCur(&event{typ: "goroutine_dump"})
			}
			id, _ := strconv.Atoi(m[1])
			g = &goroutine{id: id, state: m[2]}
			if i := strings.Index(g.state, ", "); i >= 0 {
				g.state = g.state[:i]
			}
			cur.gs = append(cur.gs, g)
			cur.preamble, cur.inRtStack, pendingFn = false, false, nil
			continue
		}
		if cur == nil {
			continue
		}
		if cur.preamble {
			switch {
			case reSignal.MatchString(ln):
				cur.signal = reSignal.FindStringSubmatch(ln)[1]
				continue
			case ln == "", strings.HasPrefix(ln, "PC="), strings.HasPrefix(ln, "runtime: "),
				ln == "signal arrived during cgo execution", ln == "runtime stack:":
				if ln == "runtime stack:" {
					cur.inRtStack = true
				}
				continue
			}
			if cur.inRtStack && (isFuncLine(ln) || strings.HasPrefix(ln, "\t")) {
				continue
			}
			closeCur()
			continue
		}
		switch {
		case ln == "runtime stack:":
			cur.inRtStack, g = true, nil
		case ln == "", reReg.MatchString(ln), ln == "...additional frames elided...",
			ln == "goroutine running on other thread; stack unavailable", strings.HasPrefix(ln, "exit status "):
		case strings.HasPrefix(ln, "created by "):
			if g != nil {
				g.createdBy = strings.TrimPrefix(ln, "created by ")
			}
			pendingFn = nil
		case isFuncLine(ln):
			if g != nil {
				n, a := funcName(ln)
				pendingFn = &frame{fn: n, arg0: a}
			}
		case strings.HasPrefix(ln, "\t"):
			if g != nil && pendingFn != nil {
				if m := reFileLine.FindStringSubmatch(ln); m != nil {
					pendingFn.file = m[1]
					pendingFn.line, _ = strconv.Atoi(m[2])
				}
				g.frames = append(g.frames, *pendingFn)
				pendingFn = nil
			}
		default:
			closeCur()
		}
	}
	return out
}

func isShop(f frame) bool {
	return strings.HasPrefix(f.fn, "example.com/shop/") &&
		!strings.Contains(f.fn, "._Cfunc_") && !strings.Contains(f.fn, "._cgo_")
}

func states(gs []*goroutine) obj {
	var o obj
	idx := map[string]int{}
	for _, g := range gs {
		if i, ok := idx[g.state]; ok {
			o[i].v = o[i].v.(int) + 1
			continue
		}
		idx[g.state] = len(o)
		o = append(o, kv{g.state, 1})
	}
	return o
}

// holder finds the mutex most goroutines wait on (sync.(*Mutex).lockSlow
// argument) and a goroutine that does not wait on it but has a frame whose
// first argument is that address.
func holder(gs []*goroutine) obj {
	waiters := map[string]int{}
	waiting := map[*goroutine]string{}
	for _, g := range gs {
		for _, f := range g.frames {
			if f.fn == "sync.(*Mutex).lockSlow" {
				waiters[f.arg0]++
				waiting[g] = f.arg0
			}
		}
	}
	best, n := "", 0
	for a, c := range waiters {
		if c > n {
			best, n = a, c
		}
	}
	for _, g := range gs {
		if waiting[g] == best {
			continue
		}
		for _, f := range g.frames {
			if f.arg0 == best {
				return obj{{"goroutine_id", g.id}, {"function", f.fn}, {"state", g.state}, {"waiters", n}}
			}
		}
	}
	return nil
}

func main() {
	specPath := flag.String("spec", "", "spec json")
	txtPath := flag.String("txt", "", "corpus text file")
	source := flag.String("source", "", "how the text was generated")
	outPath := flag.String("out", "", "expect.json to write")
	flag.Parse()

	var sp spec
	sb, err := os.ReadFile(*specPath)
	if err != nil {
		fatal(err)
	}
	if err := json.Unmarshal(sb, &sp); err != nil {
		fatal(fmt.Errorf("%s: %w", *specPath, err))
	}
	tb, err := os.ReadFile(*txtPath)
	if err != nil {
		fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(tb))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	found := scan(lines)

	var want []specEvent
	var leak *specEvent
	for i := range sp.Events {
		if sp.Events[i].Type == "leak_suspect" {
			leak = &sp.Events[i]
			continue
		}
		want = append(want, sp.Events[i])
	}
	var gotTypes, wantTypes []string
	for _, e := range found {
		gotTypes = append(gotTypes, e.typ)
	}
	for _, e := range want {
		wantTypes = append(wantTypes, e.Type)
	}
	if strings.Join(gotTypes, ",") != strings.Join(wantTypes, ",") {
		fatal(fmt.Errorf("%s: found events [%s], spec says [%s]", *txtPath, strings.Join(gotTypes, ","), strings.Join(wantTypes, ",")))
	}

	var events []any
	var frameIDs []string
	seenID := map[string]bool{}
	crashSeen := false
	for i, e := range found {
		s := want[i]
		switch e.typ {
		case "crash":
			crashSeen = true
			if len(e.panics) == 0 || len(e.gs) == 0 {
				fatal(fmt.Errorf("%s: crash #%d has no message or no goroutines", *txtPath, i))
			}
			var sig any
			if e.signal != "" {
				sig = e.signal
			}
			var cid, root any
			if !s.NoCrashingGoroutine {
				cid = e.gs[0].id
			}
			// The root cause is the first service frame of the first goroutine printed; for a deadlock that
			// is goroutine 1, blocked forever (Ingest's choice: the subject of a crash with no crashing goroutine).
			for _, f := range e.gs[0].frames {
				if isShop(f) {
					root = obj{{"function", f.fn}, {"line", f.line}}
					break
				}
			}
			events = append(events, obj{
				{"type", "crash"},
				{"category", s.Category},
				{"recoverable", e.recoverable},
				{"message", e.panics[len(e.panics)-1]},
				{"panics", e.panics},
				{"signal", sig},
				{"goroutine_count", len(e.gs)},
				{"crashing_goroutine_id", cid},
				{"root_cause", root},
				{"fingerprint_group", s.FingerprintGroup},
			})
		case "goroutine_dump":
			var sig any
			if e.signal != "" {
				sig = e.signal
			}
			o := obj{{"type", "goroutine_dump"}, {"signal", sig}, {"goroutine_count", len(e.gs)}, {"states", states(e.gs)}}
			if s.WantHolder {
				h := holder(e.gs)
				if h == nil {
					fatal(fmt.Errorf("%s: no mutex holder found", *txtPath))
				}
				o = append(o, kv{"suspected_holder", h})
			}
			events = append(events, o)
		case "gc":
			events = append(events, obj{{"type", "gc"}, {"count", e.gcCount}, {"forced", e.gcForced}})
		case "tagged_log":
			events = append(events, obj{{"type", "tagged_log"}, {"count", e.tagCount}})
			if !crashSeen {
				for _, id := range e.tagIDs {
					if !seenID[id] {
						seenID[id] = true
						frameIDs = append(frameIDs, id)
					}
				}
			}
		}
	}
	if leak != nil {
		var counts []int
		for _, e := range found {
			if e.typ != "goroutine_dump" {
				continue
			}
			n := 0
			for _, g := range e.gs {
				if len(g.frames) > 0 && g.frames[0].fn == leak.TopFunction && g.createdBy == leak.CreatedBy {
					n++
				}
			}
			counts = append(counts, n)
		}
		for i := 1; i < len(counts); i++ {
			if counts[i] <= counts[i-1] {
				fatal(fmt.Errorf("%s: leak counts do not grow: %v", *txtPath, counts))
			}
		}
		events = append(events, obj{{"type", "leak_suspect"}, {"top_function", leak.TopFunction}, {"created_by", leak.CreatedBy}, {"counts", counts}})
	}

	doc := obj{{"source", *source}, {"events", events}}
	if sp.WantFrameID {
		doc = append(doc, kv{"frame_ids", frameIDs})
	}
	doc = append(doc, kv{"notes", sp.Notes})
	raw, err := marshal(doc)
	if err != nil {
		fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		fatal(err)
	}
	pretty.WriteByte('\n')
	if err := os.WriteFile(*outPath, pretty.Bytes(), 0o644); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "expectgen:", err)
	os.Exit(1)
}
