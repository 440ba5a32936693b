// Command shopd is a fake order service whose -scenario flag selects one
// crash, dump or trace to produce. It exists only to generate the Ingest
// test corpus (see tools/corpus-gen/README.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/acme/orm"

	"example.com/shop/internal/api"
	"example.com/shop/internal/logx"
	"example.com/shop/internal/service"
	"example.com/shop/internal/store"
	"example.com/shop/internal/wire"
)

type app struct {
	db    *orm.DB
	repo  *store.OrderRepo
	cache *store.Cache
	svc   *service.OrderService
	h     *api.Handler
}

func newApp() *app {
	db, _ := orm.Open("mem://shop")
	repo := store.NewOrderRepo(db)
	repo.Seed()
	cache := store.NewCache()
	svc := service.NewOrderService(repo, cache)
	return &app{db: db, repo: repo, cache: cache, svc: svc, h: api.NewHandler(svc)}
}

var (
	scenario = flag.String("scenario", "", "what to produce")
	idle     = flag.Int("idle", 0, "idle pool workers to start before the request goroutine")
	n        = flag.Int("n", 200, "goroutine count for the convoy scenario")
)

var logger = logx.Stderr

func main() {
	flag.Parse()
	a := newApp()
	ctx := context.Background()
	switch *scenario {
	case "nilderef":
		a.request(func() { a.h.GetOrder(ctx, &api.Request{Path: "/orders/404"}) })
	case "fp-index":
		a.request(func() { a.h.GetOrder(ctx, &api.Request{Path: "/orders/7042"}) })
	case "index":
		a.request(func() {
			o, _ := a.svc.LoadOrder(ctx, 42)
			o.Items = []store.Item{{SKU: "AB-123", Qty: 1, PriceCents: 500}, {SKU: "CD-678", Qty: 2, PriceCents: 2375}}
			a.svc.TopItems(o, 3)
		})
	case "slicebounds":
		a.request(func() { a.repo.ListSKUs(ctx, 0) })
	case "nilmap":
		a.request(func() {
			o, _ := a.h.GetOrder(ctx, &api.Request{Path: "/orders/42"})
			a.svc.Tag(o, "source", "api")
		})
	case "divzero":
		a.request(func() {
			o, _ := a.h.GetOrder(ctx, &api.Request{Path: "/orders/43"})
			a.svc.AverageItemPrice(o)
		})
	case "typeassert":
		a.request(func() { a.h.ListOrders(ctx, &api.Request{Path: "/orders", Query: map[string]any{"limit": "25"}}) })
	case "sendclosed":
		a.request(func() {
			nt := service.NewNotifier()
			nt.Close()
			nt.Publish(service.Event{OrderID: 42, Kind: "shipped"})
		})
	case "closeclosed":
		a.request(func() {
			nt := service.NewNotifier()
			nt.Close()
			nt.Close()
		})
	case "negwg":
		a.request(func() {
			var b service.Batch
			b.Start(42)
			b.Finish(42, true)
		})
	case "unlock":
		a.request(func() { a.cache.Invalidate(999) })
	case "panicerr":
		a.request(func() {
			o, _ := a.h.GetOrder(ctx, &api.Request{Path: "/orders/44"})
			a.svc.SettlePayment(o, "refunded")
		})
	case "panicsprintf":
		a.request(func() {
			o, _ := a.h.GetOrder(ctx, &api.Request{Path: "/orders/45"})
			o.Items = []store.Item{{SKU: "AB-123", Qty: 3, PriceCents: 150}}
			a.svc.CheckInvariants(o)
		})
	case "deadlock":
		deadlock(a)
	case "mapwrites":
		mapwrites(a)
	case "stackoverflow":
		a.request(func() { service.NewPricing().Markup("clearance") })
	case "oom":
		a.request(func() { a.repo.ExportAll(ctx) })
	case "checkptr":
		a.request(func() {
			buf := make([]byte, 64)
			sink = buf
			h := wire.DecodeHeader(buf, 56)
			fmt.Println(h.OrderID)
		})
	case "repanic":
		a.request(func() {
			a.h.Recover("api", func() {
				a.h.Recover("GetOrder", func() {
					o, _ := a.h.GetOrder(ctx, &api.Request{Path: "/orders/46"})
					a.svc.Transition(o, "archived")
				})
			})
		})
	case "httppanic":
		httpPanic(a)
	case "logs":
		logsThenPanic(a)
	case "logs-restart":
		logsRestart(a)
	case "tags":
		tagsThenPanic(a)
	case "tags-restart":
		tagsRestart(a)
	case "sigquit":
		blockers(a, true)
		logger.Info("ready")
		select {}
	case "stackdump":
		stackDump(a)
	case "pprofdump":
		pprofDump(a)
	case "leak":
		leak(a)
	case "convoy":
		convoy(a, *n)
	case "gcload":
		gcload()
	case "rwconvoy":
		rwconvoy()
		logger.Info("ready")
		select {}
	case "rwconvoy-panic":
		rwconvoy()
		a.request(func() {
			o, _ := a.h.GetOrder(ctx, &api.Request{Path: "/orders/44"})
			a.svc.SettlePayment(o, "refunded")
		})
	case "ancestors":
		ancestors(a)
	default:
		fmt.Fprintf(os.Stderr, "unknown scenario %q\n", *scenario)
		os.Exit(2)
	}
}

var sink any

// request runs fn on a fresh "request" goroutine after starting -idle pool
// workers, so the crashing goroutine id depends on -idle. main then waits.
func (a *app) request(fn func()) {
	service.NewPool(*idle)
	time.Sleep(20 * time.Millisecond) // let the workers park
	done := make(chan struct{})
	go func() {
		time.Sleep(20 * time.Millisecond) // let main park in <-done
		fn()
		close(done) // not deferred: a panic must not wake main
	}()
	<-done
}

func deadlock(a *app) {
	var b service.Batch
	nt := service.NewNotifier()
	for i := int64(0); i < 3; i++ {
		b.Start(i)
		nt.Subscribe(func(ev service.Event) { b.Finish(ev.OrderID, false) })
	}
	// Nobody publishes: the subscribers wait forever and so does Wait.
	b.Wait()
}

func mapwrites(a *app) {
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := int64(0); ; i++ {
				a.cache.PutUnsafe(&store.Order{ID: i%64 + int64(w)*64})
			}
		}(w)
	}
	wg.Wait()
}

func httpPanic(a *app) {
	log.SetOutput(logx.StdlogWriter{W: os.Stderr, Clock: logx.Default})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: a.h}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	logger.Info("listening", "addr", "127.0.0.1:8080")
	// No keep-alive: a GET that fails on a reused connection is retried by
	// the transport, which would log every handler panic twice.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, p := range []string{"/orders/41", "/orders/42/items/1", "/orders/42", "/orders/404", "/healthz"} {
		resp, err := c.Get(base + p)
		if err != nil {
			logger.Warn("request failed", "path", p, "err", "EOF")
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		logger.Info("request", "path", p, "status", resp.StatusCode)
	}
	logger.Info("shutting down")
	srv.Close()
}

func logsThenPanic(a *app) {
	js := logx.New(os.Stderr, logx.JSON)
	logger.Info("shop starting", "version", "1.4.0", "pid", 4242)
	js.Info("config loaded", "env", "prod", "workers", 8)
	logger.Info("recovered from panic: timeout", "component", "retry", "attempt", 1)
	js.Warn("panic: upstream returned 502, retrying", "attempt", 2)
	logger.Error("fatal error: could not reach payment gateway", "retry_in", "5s")
	logger.Debug("worker pool stats", "goroutines", 17, "state", "goroutine 1 [running]")
	js.Info("request", "method", "GET", "path", "/orders/47", "status", 200, "dur_ms", 3)
	logger.Info("applying discount", "order_id", 47)
	a.request(func() {
		o, _ := a.h.GetOrder(context.Background(), &api.Request{Path: "/orders/47"})
		a.svc.ApplyDiscount(o)
	})
}

func logsRestart(a *app) {
	logx.Default = logx.NewClock(logx.Start.Add(3*time.Second), 7*time.Millisecond)
	logger = logx.New(os.Stderr, logx.Logfmt)
	js := logx.New(os.Stderr, logx.JSON)
	logger.Info("shop starting", "version", "1.4.0", "pid", 4301, "restarts", 1)
	js.Info("config loaded", "env", "prod", "workers", 8)
	logger.Warn("previous instance exited", "exit_code", 2)
	js.Info("request", "method", "GET", "path", "/orders/41", "status", 200, "dur_ms", 2)
	logger.Info("shutting down", "reason", "SIGTERM")
}

const (
	frameA = "3f2b6c1e-8a7d-4c59-9e1f-2b7d9c0a1e55"
	frameB = "9b1d7e3a-4c2f-4e8b-a6d0-5f3c2a1b9e77"
	frameC = "c0ffee00-1234-4abc-8def-0123456789ab"
	frameR = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
)

func tagsThenPanic(a *app) {
	t := logx.NewTagged(os.Stderr)
	t.Line("INFO", "shop starting version=1.4.0")
	t.Line("app:read:"+frameA, "GET /orders/42 received")
	t.Line("service:read:"+frameA, "loading order 42")
	t.Line("dao:read:"+frameA, "SELECT * FROM orders_0 WHERE id = 42")
	t.Line("app:unknown:xyz", "request shape not recognised")
	t.Line("app:write:"+frameB, "POST /orders/42/reserve received")
	t.Line("service:validate:"+frameB, "validating reservation sku=AB-123 qty=5")
	t.Line("cache:read:"+frameC, "warming cache (not a tag: unknown layer)")
	t.Line("dao:read", "missing frame id")
	t.Line("dao:write:"+frameB, "UPDATE stock SET qty = qty - 5 WHERE sku = 'AB-123'")
	t.Line("infra:retry:"+frameB, "deadlock detected by database, retrying attempt=2")
	t.Line("WARN", "stock low sku=AB-123 remaining=2")
	t.Line("service:write:"+frameB, "reserving stock for order 42")
	a.request(func() { a.svc.MustReserve(context.Background(), 42, "AB-123", 5) })
}

func tagsRestart(a *app) {
	logx.Default = logx.NewClock(logx.Start.Add(2*time.Second), 7*time.Millisecond)
	t := logx.NewTagged(os.Stderr)
	t.Line("INFO", "shop starting version=1.4.0 restarts=1")
	t.Line("app:read:"+frameR, "GET /orders/41 received")
	t.Line("service:read:"+frameR, "loading order 41")
}

// blockers parks goroutines in many different wait states.
func blockers(a *app, withNet bool) {
	ctx := context.Background()
	// A holder blocked on a channel while holding the cache mutex, and three
	// readers waiting for that mutex.
	go a.cache.Refresh(ctx)
	time.Sleep(20 * time.Millisecond)
	for i := int64(0); i < 3; i++ {
		go a.cache.Get(ctx, 40+i)
	}
	// Two subscribers waiting on channel receive, one publisher blocked on send.
	nt := service.NewNotifier()
	nt.Subscribe(func(service.Event) {})
	nt.Subscribe(func(service.Event) {})
	nt.Publish(service.Event{OrderID: 1, Kind: "created"})
	go nt.Publish(service.Event{OrderID: 2, Kind: "paid"})
	// A janitor in select, a retrier sleeping.
	go service.Janitor(ctx, time.Hour, func() {})
	r := &service.Retrier{Backoff: time.Hour}
	go r.Do(func() error { return fmt.Errorf("payment gateway unavailable") })
	// A batch waiting on a WaitGroup and a consumer waiting on a sync.Cond.
	var b service.Batch
	b.Start(7)
	go b.Wait()
	q := service.NewQueue()
	go q.Pop()
	// An idle pool worker.
	service.NewPool(1)
	if withNet {
		// An HTTP server in Accept (IO wait) and a connection waiting for a
		// request (IO wait in conn.serve).
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		go http.Serve(ln, a.h)
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			panic(err)
		}
		sink = c
	}
	time.Sleep(100 * time.Millisecond)
}

func stackDump(a *app) {
	logger.Info("shop starting", "version", "1.4.0")
	blockers(a, false)
	logger.Warn("watchdog: request latency over budget, dumping goroutines", "p99_ms", 5400)
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	os.Stderr.Write(buf)
	logger.Info("goroutine dump written", "bytes", len(buf))
}

func pprofServer() (base string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go http.Serve(ln, nil) // DefaultServeMux with /debug/pprof/
	return "http://" + ln.Addr().String()
}

var client = &http.Client{}

func fetchDump(base string) []byte {
	resp, err := client.Get(base + "/debug/pprof/goroutine?debug=2")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		panic(err)
	}
	return b
}

func pprofDump(a *app) {
	base := pprofServer()
	logger.Info("shop starting", "version", "1.4.0", "debug_addr", "127.0.0.1:6060")
	blockers(a, false)
	logger.Info("fetching goroutine profile", "url", "/debug/pprof/goroutine?debug=2")
	os.Stderr.Write(fetchDump(base))
	logger.Info("goroutine profile done")
}

func leak(a *app) {
	base := pprofServer()
	logger.Info("shop starting", "version", "1.4.0", "debug_addr", "127.0.0.1:6060")
	// Constant background: a janitor (select) and two idle pool workers.
	go service.Janitor(context.Background(), time.Hour, func() {})
	service.NewPool(2)
	nt := service.NewNotifier()
	for round := 1; round <= 4; round++ {
		for i := 0; i < 10; i++ {
			nt.Subscribe(func(service.Event) {})
		}
		logger.Info("subscribed websocket clients", "round", round, "subscribers", nt.Subscribers())
		time.Sleep(50 * time.Millisecond)
		logger.Info("fetching goroutine profile", "url", "/debug/pprof/goroutine?debug=2", "round", round)
		os.Stderr.Write(fetchDump(base))
		logger.Info("goroutine profile done", "round", round)
	}
}

func convoy(a *app, n int) {
	ctx := context.Background()
	go service.Janitor(ctx, time.Hour, func() {})
	go a.cache.Refresh(ctx)
	time.Sleep(20 * time.Millisecond)
	for i := 0; i < n; i++ {
		go a.cache.Get(ctx, int64(i))
	}
	time.Sleep(200 * time.Millisecond)
	logger.Info("ready", "waiting_on_cache", n)
	select {}
}

func gcload() {
	logger.Info("gc load starting")
	var live [][]byte
	start := time.Now()
	forced := false
	for time.Since(start) < 1500*time.Millisecond {
		for i := 0; i < 1000; i++ {
			b := make([]byte, 1024+i%4096)
			if i%10 == 0 {
				live = append(live, b)
			}
		}
		if len(live) > 20000 {
			live = live[10000:]
		}
		if !forced && time.Since(start) > 700*time.Millisecond {
			logger.Info("forcing gc")
			runtime.GC()
			forced = true
		}
	}
	runtime.GC()
	logger.Info("gc load done", "live_chunks", len(live))
}

// rwconvoy parks 12 readers of a catalog behind its reloading writer, and
// 5 compacting writers of a ledger behind its 2 slow readers.
func rwconvoy() {
	cat := store.NewCatalog("eu")
	go cat.Reload(time.Hour)
	time.Sleep(20 * time.Millisecond)
	for i := 0; i < 12; i++ {
		go cat.Price("AB-123")
	}
	led := store.NewLedger(7)
	for i := 0; i < 2; i++ {
		go led.Sum(time.Hour)
	}
	time.Sleep(20 * time.Millisecond)
	for i := 0; i < 5; i++ {
		go led.Compact()
	}
	time.Sleep(100 * time.Millisecond)
}

// ancestors crashes two goroutine generations below main, with a sibling
// pool worker parked, for GODEBUG=tracebackancestors.
func ancestors(a *app) {
	done := make(chan struct{})
	go func() { // the request acceptor
		service.NewPool(1)
		go func() { // the request handler
			time.Sleep(20 * time.Millisecond)
			a.h.GetOrder(context.Background(), &api.Request{Path: "/orders/404"})
			close(done)
		}()
		<-done
	}()
	<-done
}
