// Command shop-native exercises the cgo codec (internal/native) to produce
// crashes inside C code.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"example.com/shop/internal/native"
)

var scenario = flag.String("scenario", "", "cgo-segv or cgo-abort")

func main() {
	flag.Parse()
	done := make(chan struct{})
	go func() {
		time.Sleep(20 * time.Millisecond)
		switch *scenario {
		case "cgo-segv":
			fmt.Println(snapshotChecksum(nil))
		case "cgo-abort":
			fmt.Println(len(native.Compress([]byte("AB-12345CD-678|qty=3"), 8)))
		default:
			fmt.Fprintf(os.Stderr, "unknown scenario %q\n", *scenario)
			os.Exit(2)
		}
		close(done)
	}()
	<-done
}

type item struct {
	sku string
	qty int64
}

func snapshotChecksum(it *item) int64 {
	if it == nil {
		return native.Checksum("", 0, true)
	}
	return native.Checksum(it.sku, it.qty, false)
}
