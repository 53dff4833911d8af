// SPDX-License-Identifier: LGPL-2.1-or-later
// Corpus: Go (golang-go). Goroutines on several OS threads: one spinning
// in a leaf without a frame (main.busy2), threads asleep in futex
// (runtime.futexsleep) behind locked goroutines blocked on channels, and
// the rest of the runtime's threads. Prints "ready" once all are running.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

var sink uint64

//go:noinline
func busy2(n uint64) uint64 {
	// A leaf with no locals and no calls: the compiler gives it no
	// frame and no frame pointer.
	for {
		n = n*6364136223846793005 + 1442695040888963407
		if n == 0 {
			return n
		}
	}
}

//go:noinline
func busy1() {
	sink = busy2(sink)
}

//go:noinline
func blocked(c chan int, depth int) int {
	if depth > 0 {
		return blocked(c, depth-1) + 1
	}
	// Locked to its thread: the thread sleeps in futex, not in the
	// scheduler's idle loop.
	return <-c
}

func main() {
	runtime.GOMAXPROCS(4)
	c := make(chan int)
	started := make(chan bool)
	for i := 0; i < 3; i++ {
		go func(i int) {
			runtime.LockOSThread()
			started <- true
			blocked(c, i+2)
		}(i)
	}
	for i := 0; i < 3; i++ {
		<-started
	}
	go func() {
		runtime.LockOSThread()
		started <- true
		busy1()
	}()
	<-started
	time.Sleep(100 * time.Millisecond)
	fmt.Println("ready")
	os.Stdout.Sync()
	<-c
}
