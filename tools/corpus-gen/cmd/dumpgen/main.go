// Command dumpgen starts many goroutines blocked in a few dozen different
// ways, then writes runtime.Stack(buf, true) (the same text as a
// /debug/pprof/goroutine?debug=2 dump) to stdout and exits.
//
// Every goroutine gets its own channel / mutex / cond / object where the
// blocking primitive allows it, so the (often stale, `0x...?`) argument words
// differ between goroutines that share a stack signature.
//
//	dumpgen -n 100000 > /tmp/bigdump-100k.txt
//	dumpgen -n 100000 -layers 2 > /tmp/bigdump-100k-deep.txt   # about 60 MB
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

var started int64

// layers puts that many extra frames under every blocked goroutine (-layers), as middleware and framework
// layers do under a handler: the same signatures, a bigger dump.
var layers int

func goLayered(f func()) { go layer(layers, f) }

//go:noinline
func layer(d int, f func()) {
	if d == 0 {
		f()
		return
	}
	layer(d-1, f)
	runtime.KeepAlive(f)
}

func ready() { atomic.AddInt64(&started, 1) }

// ---- the blocking wrappers (one stack signature each) ----

//go:noinline
func recvOrder(ch chan int) int { ready(); v := <-ch; runtime.KeepAlive(ch); return v }

//go:noinline
func sendOrder(ch chan int) { ready(); ch <- 1; runtime.KeepAlive(ch) }

//go:noinline
func recvNil() { ready(); var ch chan int; <-ch }

//go:noinline
func sendNil() { ready(); var ch chan int; ch <- 1 }

//go:noinline
func selectTwo(a, b chan int) int {
	ready()
	select {
	case v := <-a:
		return v
	case v := <-b:
		runtime.KeepAlive(a)
		return v
	}
}

//go:noinline
func selectThree(a, b chan int, c chan string) int {
	ready()
	select {
	case v := <-a:
		return v
	case b <- 1:
		return 0
	case s := <-c:
		runtime.KeepAlive(a)
		runtime.KeepAlive(b)
		return len(s)
	}
}

//go:noinline
func selectNone() { ready(); select {} }

//go:noinline
func lockMutex(mu *sync.Mutex) { ready(); mu.Lock(); runtime.KeepAlive(mu) }

//go:noinline
func lockRW(mu *sync.RWMutex) { ready(); mu.Lock(); runtime.KeepAlive(mu) }

//go:noinline
func rlockRW(mu *sync.RWMutex) { ready(); mu.RLock(); runtime.KeepAlive(mu) }

//go:noinline
func waitGroup(wg *sync.WaitGroup) { ready(); wg.Wait(); runtime.KeepAlive(wg) }

//go:noinline
func waitCond(c *sync.Cond) {
	c.L.Lock()
	ready()
	c.Wait()
	runtime.KeepAlive(c)
}

//go:noinline
func sleepLong(d time.Duration) { ready(); time.Sleep(d); runtime.KeepAlive(d) }

//go:noinline
func waitTimer(t *time.Timer) { ready(); <-t.C; runtime.KeepAlive(t) }

//go:noinline
func waitCtx(ctx context.Context) { ready(); <-ctx.Done(); runtime.KeepAlive(ctx) }

//go:noinline
func readNetPipe(c net.Conn) {
	ready()
	var b [16]byte
	c.Read(b[:])
	runtime.KeepAlive(c)
}

//go:noinline
func readIOPipe(r *io.PipeReader) {
	ready()
	var b [16]byte
	r.Read(b[:])
	runtime.KeepAlive(r)
}

//go:noinline
func writeIOPipe(w *io.PipeWriter) { ready(); w.Write([]byte("order")); runtime.KeepAlive(w) }

//go:noinline
func recurse(depth int, ch chan int) int {
	if depth == 0 {
		ready()
		v := <-ch
		runtime.KeepAlive(ch)
		return v
	}
	return recurse(depth-1, ch) + depth
}

// Worker is a struct whose methods block.
type Worker struct {
	id    int
	inbox chan int
	mu    sync.Mutex
}

//go:noinline
func (w *Worker) Run() {
	ready()
	for v := range w.inbox {
		w.id += v
	}
	runtime.KeepAlive(w)
}

//go:noinline
func (w *Worker) drain() {
	ready()
	func() {
		<-w.inbox
		runtime.KeepAlive(w)
	}()
	runtime.KeepAlive(w)
}

//go:noinline
func waitGeneric[T any](ch chan T) T { ready(); v := <-ch; runtime.KeepAlive(ch); return v }

//go:noinline
func onceBlocked(o *sync.Once, gate chan int) {
	ready()
	o.Do(func() { <-gate; runtime.KeepAlive(gate) })
	runtime.KeepAlive(o)
}

//go:noinline
func semAcquire(sem chan struct{}) { ready(); sem <- struct{}{}; runtime.KeepAlive(sem) }

//go:noinline
func pollLoop(stop *int32) {
	ready()
	for atomic.LoadInt32(stop) == 0 {
		time.Sleep(time.Hour)
	}
}

//go:noinline
func condRLocker(c *sync.Cond) {
	c.L.Lock()
	ready()
	c.Wait()
	runtime.KeepAlive(c)
}

//go:noinline
func tickerLoop(t *time.Ticker, quit chan int) {
	ready()
	for {
		select {
		case <-t.C:
		case <-quit:
			runtime.KeepAlive(t)
			return
		}
	}
}

//go:noinline
func requestReply(req chan chan int) int {
	ready()
	reply := <-req
	v := <-reply
	runtime.KeepAlive(req)
	return v
}

// Account is a struct whose method takes a mutex two calls deep.
type Account struct {
	mu      sync.Mutex
	balance int64
}

//go:noinline
func (a *Account) Withdraw(n int64) { a.debit(n); runtime.KeepAlive(a) }

//go:noinline
func (a *Account) debit(n int64) {
	ready()
	a.mu.Lock()
	a.balance -= n
	a.mu.Unlock()
	runtime.KeepAlive(a)
}

//go:noinline
func handler(ctx context.Context, jobs chan int) {
	go func() {}()
	ready()
	select {
	case <-ctx.Done():
	case <-jobs:
	}
	runtime.KeepAlive(jobs)
}

//go:noinline
func rangeChan(ch chan string) {
	ready()
	for s := range ch {
		_ = s
	}
	runtime.KeepAlive(ch)
}

//go:noinline
func sendBuffered(ch chan int) {
	ready()
	for i := 0; ; i++ {
		ch <- i
		runtime.KeepAlive(ch)
	}
}

//go:noinline
func nestedA(ch chan int) int { v := nestedB(ch) * 2; runtime.KeepAlive(ch); return v }

//go:noinline
func nestedB(ch chan int) int { v := nestedC(ch) + 1; runtime.KeepAlive(ch); return v }

//go:noinline
func nestedC(ch chan int) int { ready(); v := <-ch; runtime.KeepAlive(ch); return v }

//go:noinline
func sleepShortLoop() {
	ready()
	for {
		time.Sleep(10 * time.Minute)
	}
}

// ---- spawning ----

type kind struct {
	name   string
	weight int
	spawn  func(n int)
}

var keep []any // keeps objects reachable

func main() {
	total := flag.Int("n", 100000, "number of blocked goroutines")
	flag.IntVar(&layers, "layers", 0, "extra frames under each blocked goroutine")
	flag.Parse()

	bigCtx, cancel := context.WithCancel(context.Background())
	_ = cancel
	stop := new(int32)

	kinds := []kind{
		{"chan receive", 6, func(n int) {
			for i := 0; i < n; i++ {
				ch := make(chan int)
				keep = append(keep, ch)
				if layers > 0 {
					goLayered(func() { recvOrder(ch) })
				} else {
					go recvOrder(ch)
				}
			}
		}},
		{"chan send", 4, func(n int) {
			for i := 0; i < n; i++ {
				ch := make(chan int)
				keep = append(keep, ch)
				if layers > 0 {
					goLayered(func() { sendOrder(ch) })
				} else {
					go sendOrder(ch)
				}
			}
		}},
		{"chan receive (nil chan)", 1, func(n int) {
			for i := 0; i < n; i++ {
				if layers > 0 {
					goLayered(func() { recvNil() })
				} else {
					go recvNil()
				}
			}
		}},
		{"chan send (nil chan)", 1, func(n int) {
			for i := 0; i < n; i++ {
				if layers > 0 {
					goLayered(func() { sendNil() })
				} else {
					go sendNil()
				}
			}
		}},
		{"select two", 4, func(n int) {
			for i := 0; i < n; i++ {
				a, b := make(chan int), make(chan int)
				keep = append(keep, a, b)
				if layers > 0 {
					goLayered(func() { selectTwo(a, b) })
				} else {
					go selectTwo(a, b)
				}
			}
		}},
		{"select three", 2, func(n int) {
			for i := 0; i < n; i++ {
				a, b, c := make(chan int), make(chan int), make(chan string)
				keep = append(keep, a, b, c)
				if layers > 0 {
					goLayered(func() { selectThree(a, b, c) })
				} else {
					go selectThree(a, b, c)
				}
			}
		}},
		{"select (no cases)", 1, func(n int) {
			for i := 0; i < n; i++ {
				if layers > 0 {
					goLayered(func() { selectNone() })
				} else {
					go selectNone()
				}
			}
		}},
		{"mutex", 5, func(n int) {
			for i := 0; i < n; i++ {
				mu := new(sync.Mutex)
				mu.Lock()
				keep = append(keep, mu)
				if layers > 0 {
					goLayered(func() { lockMutex(mu) })
				} else {
					go lockMutex(mu)
				}
			}
		}},
		{"rwmutex lock", 3, func(n int) {
			for i := 0; i < n; i++ {
				mu := new(sync.RWMutex)
				mu.RLock()
				keep = append(keep, mu)
				if layers > 0 {
					goLayered(func() { lockRW(mu) })
				} else {
					go lockRW(mu)
				}
			}
		}},
		{"rwmutex rlock", 3, func(n int) {
			for i := 0; i < n; i++ {
				mu := new(sync.RWMutex)
				mu.Lock()
				keep = append(keep, mu)
				if layers > 0 {
					goLayered(func() { rlockRW(mu) })
				} else {
					go rlockRW(mu)
				}
			}
		}},
		{"waitgroup", 3, func(n int) {
			for i := 0; i < n; i++ {
				wg := new(sync.WaitGroup)
				wg.Add(1)
				keep = append(keep, wg)
				if layers > 0 {
					goLayered(func() { waitGroup(wg) })
				} else {
					go waitGroup(wg)
				}
			}
		}},
		{"cond", 3, func(n int) {
			for i := 0; i < n; i++ {
				c := sync.NewCond(new(sync.Mutex))
				keep = append(keep, c)
				if layers > 0 {
					goLayered(func() { waitCond(c) })
				} else {
					go waitCond(c)
				}
			}
		}},
		{"sleep", 3, func(n int) {
			for i := 0; i < n; i++ {
				if layers > 0 {
					i := i
					goLayered(func() { sleepLong(time.Duration(i+1) * time.Hour) })
				} else {
					go sleepLong(time.Duration(i+1) * time.Hour)
				}
			}
		}},
		{"timer", 2, func(n int) {
			for i := 0; i < n; i++ {
				t := time.NewTimer(time.Duration(i+1) * time.Hour)
				keep = append(keep, t)
				if layers > 0 {
					goLayered(func() { waitTimer(t) })
				} else {
					go waitTimer(t)
				}
			}
		}},
		{"context", 3, func(n int) {
			for i := 0; i < n; i++ {
				ctx, cancel := context.WithCancel(bigCtx)
				keep = append(keep, cancel)
				if layers > 0 {
					goLayered(func() { waitCtx(ctx) })
				} else {
					go waitCtx(ctx)
				}
			}
		}},
		{"net.Pipe read", 2, func(n int) {
			for i := 0; i < n; i++ {
				a, b := net.Pipe()
				keep = append(keep, a, b)
				if layers > 0 {
					goLayered(func() { readNetPipe(a) })
				} else {
					go readNetPipe(a)
				}
			}
		}},
		{"io.Pipe read", 2, func(n int) {
			for i := 0; i < n; i++ {
				r, w := io.Pipe()
				keep = append(keep, r, w)
				if layers > 0 {
					goLayered(func() { readIOPipe(r) })
				} else {
					go readIOPipe(r)
				}
			}
		}},
		{"io.Pipe write", 2, func(n int) {
			for i := 0; i < n; i++ {
				r, w := io.Pipe()
				keep = append(keep, r, w)
				if layers > 0 {
					goLayered(func() { writeIOPipe(w) })
				} else {
					go writeIOPipe(w)
				}
			}
		}},
		{"recursion depth 8", 2, func(n int) {
			for i := 0; i < n; i++ {
				ch := make(chan int)
				keep = append(keep, ch)
				if layers > 0 {
					goLayered(func() { recurse(8, ch) })
				} else {
					go recurse(8, ch)
				}
			}
		}},
		{"recursion depth 3", 2, func(n int) {
			for i := 0; i < n; i++ {
				ch := make(chan int)
				keep = append(keep, ch)
				if layers > 0 {
					goLayered(func() { recurse(3, ch) })
				} else {
					go recurse(3, ch)
				}
			}
		}},
		{"Worker.Run", 4, func(n int) {
			for i := 0; i < n; i++ {
				w := &Worker{id: i, inbox: make(chan int)}
				keep = append(keep, w)
				if layers > 0 {
					goLayered(func() { w.Run() })
				} else {
					go w.Run()
				}
			}
		}},
		{"Worker.drain closure", 2, func(n int) {
			for i := 0; i < n; i++ {
				w := &Worker{id: i, inbox: make(chan int)}
				keep = append(keep, w)
				if layers > 0 {
					goLayered(func() { w.drain() })
				} else {
					go w.drain()
				}
			}
		}},
		{"generic", 2, func(n int) {
			for i := 0; i < n; i++ {
				ch := make(chan string)
				keep = append(keep, ch)
				if layers > 0 {
					goLayered(func() { waitGeneric(ch) })
				} else {
					go waitGeneric(ch)
				}
			}
		}},
		{"sync.Once", 2, func(n int) {
			// groups of 4: one goroutine runs the Once body (blocked on its
			// gate, chan receive), three wait on the Once's mutex.
			for i := 0; i < n; i += 4 {
				o, gate := new(sync.Once), make(chan int)
				keep = append(keep, o, gate)
				for j := 0; j < 4 && i+j < n; j++ {
					if layers > 0 {
						goLayered(func() { onceBlocked(o, gate) })
					} else {
						go onceBlocked(o, gate)
					}
				}
			}
		}},
		{"semaphore full", 2, func(n int) {
			for i := 0; i < n; i++ {
				sem := make(chan struct{}, 1)
				sem <- struct{}{}
				keep = append(keep, sem)
				if layers > 0 {
					goLayered(func() { semAcquire(sem) })
				} else {
					go semAcquire(sem)
				}
			}
		}},
		{"poll loop", 2, func(n int) {
			for i := 0; i < n; i++ {
				if layers > 0 {
					goLayered(func() { pollLoop(stop) })
				} else {
					go pollLoop(stop)
				}
			}
		}},
		{"cond rlocker", 2, func(n int) {
			for i := 0; i < n; i++ {
				mu := new(sync.RWMutex)
				c := sync.NewCond(mu.RLocker())
				keep = append(keep, c)
				if layers > 0 {
					goLayered(func() { condRLocker(c) })
				} else {
					go condRLocker(c)
				}
			}
		}},
		{"ticker loop", 2, func(n int) {
			for i := 0; i < n; i++ {
				t := time.NewTicker(time.Duration(i+1) * time.Hour)
				q := make(chan int)
				keep = append(keep, t, q)
				if layers > 0 {
					goLayered(func() { tickerLoop(t, q) })
				} else {
					go tickerLoop(t, q)
				}
			}
		}},
		{"request reply", 2, func(n int) {
			for i := 0; i < n; i++ {
				req := make(chan chan int)
				keep = append(keep, req)
				if layers > 0 {
					goLayered(func() { requestReply(req) })
				} else {
					go requestReply(req)
				}
			}
		}},
		{"Account.Withdraw", 3, func(n int) {
			for i := 0; i < n; i++ {
				a := &Account{balance: int64(i)}
				a.mu.Lock()
				keep = append(keep, a)
				if layers > 0 {
					i := i
					goLayered(func() { a.Withdraw(int64(i)) })
				} else {
					go a.Withdraw(int64(i))
				}
			}
		}},
		{"handler select ctx/jobs", 3, func(n int) {
			for i := 0; i < n; i++ {
				ctx, cancel := context.WithCancel(bigCtx)
				jobs := make(chan int)
				keep = append(keep, cancel, jobs)
				if layers > 0 {
					goLayered(func() { handler(ctx, jobs) })
				} else {
					go handler(ctx, jobs)
				}
			}
		}},
		{"range chan", 3, func(n int) {
			for i := 0; i < n; i++ {
				ch := make(chan string)
				keep = append(keep, ch)
				if layers > 0 {
					goLayered(func() { rangeChan(ch) })
				} else {
					go rangeChan(ch)
				}
			}
		}},
		{"buffered send loop", 2, func(n int) {
			for i := 0; i < n; i++ {
				ch := make(chan int, 4)
				keep = append(keep, ch)
				if layers > 0 {
					goLayered(func() { sendBuffered(ch) })
				} else {
					go sendBuffered(ch)
				}
			}
		}},
		{"nested A/B/C", 3, func(n int) {
			for i := 0; i < n; i++ {
				ch := make(chan int)
				keep = append(keep, ch)
				if layers > 0 {
					goLayered(func() { nestedA(ch) })
				} else {
					go nestedA(ch)
				}
			}
		}},
		{"sleep loop", 1, func(n int) {
			for i := 0; i < n; i++ {
				if layers > 0 {
					goLayered(func() { sleepShortLoop() })
				} else {
					go sleepShortLoop()
				}
			}
		}},
		{"anonymous closure", 2, func(n int) {
			for i := 0; i < n; i++ {
				ch := make(chan int)
				keep = append(keep, ch)
				go func() {
					ready()
					<-ch
					runtime.KeepAlive(ch)
				}()
			}
		}},
	}

	sum := 0
	for _, k := range kinds {
		sum += k.weight
	}
	want := 0
	for i, k := range kinds {
		n := *total * k.weight / sum
		if i == len(kinds)-1 {
			n = *total - want
		}
		want += n
		k.spawn(n)
	}
	// handler() also starts one short-lived goroutine per call; those exit.
	deadline := time.Now().Add(60 * time.Second)
	for atomic.LoadInt64(&started) < int64(want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // let the last ones park
	fmt.Fprintf(os.Stderr, "dumpgen: %d kinds, %d blocked goroutines requested, %d started, NumGoroutine=%d\n",
		len(kinds), want, atomic.LoadInt64(&started), runtime.NumGoroutine())

	buf := make([]byte, 64<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	os.Stdout.Write(buf)
}
