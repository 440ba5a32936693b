// Command structlog writes the error records of zap and logrus, with the stacks those loggers attach, to
// stderr: the Ingest corpus for stacks inside structured logs (tools/corpus-gen/regen-detection.sh).
// Built in GOPATH mode against Debian's packages (golang-go.uber-zap-dev, golang-github-sirupsen-logrus-dev).
package main

import (
	"os"
	"time"

	"example.com/structlog/orders"
	"github.com/sirupsen/logrus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func main() {
	z := zapLogger()
	defer z.Sync()
	l := logrusLogger()

	z.Info("service starting", zap.String("version", "1.4.0"))
	l.WithField("stack", "blue").Warn("deployment colour") // a "stack" field that is no stack

	svc := &orders.Service{Z: z, L: l}
	o := &orders.Order{ID: 42, Items: []int64{1, 2, 3}}
	svc.Checkout(o)
	svc.TagSafely(o)
	svc.SyncItems(o)
	svc.RunWorker(nil)
	z.Info("shutting down")
}

// zapLogger is zap's production JSON config on a fixed clock: stack traces on Error and above.
func zapLogger() *zap.Logger {
	cfg := zap.NewProductionConfig()
	cfg.OutputPaths = []string{"stderr"}
	cfg.Sampling = nil
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	logger, err := cfg.Build(zap.WithClock(fixedClock{start}))
	if err != nil {
		panic(err)
	}
	return logger
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                         { return c.t }
func (c fixedClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

// logrusLogger is logrus's JSON formatter on stderr; the fixed timestamp keeps the corpus stable.
func logrusLogger() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(os.Stderr)
	l.SetFormatter(&logrus.JSONFormatter{})
	return l.WithTime(time.Date(2024, 5, 1, 10, 0, 1, 0, time.UTC))
}
