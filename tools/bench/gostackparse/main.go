// Command gostackparse-buckets is the dump-parsing baseline of docs/performance.md: DataDog's gostackparse
// (fetched by tools/bench/run.sh, not vendored) parses the dump, and goroutines are bucketed blind to their
// arguments (state, each frame's function, file and line, created by), as Ingest buckets them, so both do the
// same work. It prints the goroutine and bucket counts to check against Ingest's.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/DataDog/gostackparse"
)

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	goroutines, errs := gostackparse.Parse(bufio.NewReaderSize(f, 1<<20))
	buckets := map[string]int{}
	var key strings.Builder
	for _, g := range goroutines {
		key.Reset()
		key.WriteString(g.State)
		for _, fr := range g.Stack {
			fmt.Fprintf(&key, "|%s %s:%d", fr.Func, fr.File, fr.Line)
		}
		if g.CreatedBy != nil {
			fmt.Fprintf(&key, "|created by %s %s:%d", g.CreatedBy.Func, g.CreatedBy.File, g.CreatedBy.Line)
		}
		buckets[key.String()]++
	}
	fmt.Printf("goroutines=%d buckets=%d errors=%d\n", len(goroutines), len(buckets), len(errs))
}
