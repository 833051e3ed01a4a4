package eventlog

import (
	"errors"
	"runtime"
	"sync"
)

// parallelMin is the fewest items worth a goroutine of their own.
const parallelMin = 64

// InParallel runs fn(i) for every i below n on every CPU and returns the
// results in order; a few items run on the caller's goroutine. Decoding
// and encoding events (JSON, AES-GCM) is most of the Go side's CPU time in
// bulk reads and writes, and the other core is otherwise idle while one
// waits for the database.
func InParallel[T any](n int, fn func(i int) (T, error)) ([]T, error) {
	out := make([]T, n)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/parallelMin))
	errs := make([]error, workers)
	run := func(w int) {
		for i := w; i < n; i += workers {
			v, err := fn(i)
			if err != nil {
				errs[w] = err
				return
			}
			out[i] = v
		}
	}
	if workers == 1 {
		run(0)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { run(w) })
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
