package commands

// Wakeup tells a background worker that work was queued, so it starts it
// now instead of at its next poll. Wakeups do not pile up: a busy worker
// finds all queued work at its next look anyway.
type Wakeup struct{ ch chan struct{} }

// NewWakeup makes a wakeup for one worker.
func NewWakeup() *Wakeup { return &Wakeup{ch: make(chan struct{}, 1)} }

// Notify wakes the worker if it sleeps; nil is a wakeup nobody listens to.
func (w *Wakeup) Notify() {
	if w == nil {
		return
	}
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// C is what the worker waits on between polls.
func (w *Wakeup) C() <-chan struct{} { return w.ch }
