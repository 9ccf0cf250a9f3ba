package notifypg

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// slots are in-process semaphores of one size, by key (an endpoint's or a
// tenant's id). A key's semaphore lives while an attempt holds or waits
// for one of its slots, so the map stays as small as the work under way.
type slots struct {
	size int

	mu   sync.Mutex
	sems map[string]*semaphore
}

type semaphore struct {
	ch chan struct{}
	// The rest is guarded by slots.mu.
	refs    int           // attempts holding or waiting for a slot
	waiting int           // attempts waiting for a slot
	since   time.Time     // the last release, or the semaphore's creation
	held    time.Duration // moving average of how long a slot is held
	next    time.Time     // the latest return handed to a deferred attempt
}

func newSlots(size int) *slots { return &slots{size: size, sems: map[string]*semaphore{}} }

// Bounds of a deferral.
const (
	deferMin = 100 * time.Millisecond
	deferMax = 30 * time.Second
)

// take takes one of key's slots and returns true; or it returns false and
// how long the attempt should be deferred. It waits up to wait for a slot
// only if the key's slots turn over within wait and fewer attempts than
// slots wait already: waiting for slots held long would hold the worker
// too, which is what the slots are there to prevent.
func (s *slots) take(ctx context.Context, key string, wait time.Duration) (bool, time.Duration) {
	now := time.Now()
	s.mu.Lock()
	sem := s.sems[key]
	if sem == nil {
		sem = &semaphore{ch: make(chan struct{}, s.size), since: now}
		s.sems[key] = sem
	}
	sem.refs++
	if sem.waiting >= s.size || max(sem.held, now.Sub(sem.since)) > wait {
		wait = 0
	}
	if wait > 0 {
		sem.waiting++
	}
	s.mu.Unlock()
	ok := fill(ctx, sem.ch, wait)
	s.mu.Lock()
	defer s.mu.Unlock()
	if wait > 0 {
		sem.waiting--
	}
	if ok {
		return true, 0
	}
	d := s.deferral(sem, time.Now())
	s.unrefLocked(key, sem)
	return false, d
}

// deferral hands a deferred attempt its turn: the key's slots free one
// about every (time a slot is held)/size, counting a slot held since the
// last release as held that long, so each deferred attempt comes back one
// such step after the one deferred before it, deferMin to deferMax from
// now (plus jitter). River runs the oldest due tasks first: a key whose
// slots are held for long spreads its backlog far ahead and comes back
// rarely, rather than standing, pass after pass, before other keys' fresh
// tasks; a key whose slots turn over fast gets its attempts back as fast.
func (s *slots) deferral(sem *semaphore, now time.Time) time.Duration {
	step := max(sem.held, now.Sub(sem.since)) / time.Duration(s.size)
	next := now
	if sem.next.After(now) {
		next = sem.next
	}
	next = next.Add(step)
	sem.next = next
	if limit := now.Add(deferMax); next.After(limit) {
		sem.next = limit
	}
	d := min(max(next.Sub(now), deferMin), deferMax)
	return d + rand.N(d/4+1)
}

// load returns how many of key's slots are held, and how many other keys
// have slots held or waited for.
func (s *slots) load(key string) (held, others int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	others = len(s.sems)
	if sem := s.sems[key]; sem != nil {
		held = len(sem.ch)
		others--
	}
	return held, others
}

// later returns how long an attempt of key should be deferred, as take
// would if it found no slot free; 0 if key holds no slot.
func (s *slots) later(key string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	sem := s.sems[key]
	if sem == nil {
		return 0
	}
	return s.deferral(sem, time.Now())
}

// fill sends on ch, waiting up to wait, and reports whether it did.
func fill(ctx context.Context, ch chan struct{}, wait time.Duration) bool {
	select {
	case ch <- struct{}{}:
		return true
	default:
	}
	if wait <= 0 {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case ch <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// give gives back a slot of key that take took, held for held.
func (s *slots) give(key string, held time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sem := s.sems[key] // there while this slot is held
	<-sem.ch
	sem.since = time.Now()
	if sem.held == 0 {
		sem.held = held
	} else {
		sem.held += (held - sem.held) / 8
	}
	s.unrefLocked(key, sem)
}

// undo gives back a slot of key that take took and no attempt used.
func (s *slots) undo(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sem := s.sems[key]
	<-sem.ch
	s.unrefLocked(key, sem)
}

func (s *slots) unrefLocked(key string, sem *semaphore) {
	if sem.refs--; sem.refs == 0 {
		delete(s.sems, key)
	}
}
