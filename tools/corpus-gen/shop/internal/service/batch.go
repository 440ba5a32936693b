package service

import "sync"

// Batch tracks in-flight jobs with a WaitGroup.
type Batch struct {
	wg   sync.WaitGroup
	jobs []int64
}

// Start records a job.
func (b *Batch) Start(id int64) {
	b.wg.Add(1)
	b.jobs = append(b.jobs, id)
}

// Finish marks a job as done; retried jobs call it twice.
func (b *Batch) Finish(id int64, retried bool) {
	b.wg.Done()
	if retried {
		b.wg.Done()
	}
}

// Wait waits for all jobs.
func (b *Batch) Wait() { b.wg.Wait() }
