// SPDX-License-Identifier: LGPL-2.1-or-later
// Run-control corpus: Go (golang-go), async preemption left on. Eight
// goroutines (four locked to threads of their own) on GOMAXPROCS(4) call
// main.hot in a loop (which adds to the
// global main.counter and calls main.leaf), write one byte to /dev/null
// and allocate, so the GC runs and preempts goroutines with SIGURG; a
// spinner loops without calls for ~20 ms at a time, so sysmon preempts it
// with SIGURG too. Prints "ready" once all run; on a line (or EOF) on
// stdin it stops them and prints "done ok CALLS" if main.counter equals
// the calls the goroutines counted, else "done BAD ...", and exits 0.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var counter uint64
var stop int32
var garbage []byte
var spun uint64

//go:noinline
func leaf(x uint64) uint64 {
	return x*2654435761 + 1
}

//go:noinline
func hot(x uint64) uint64 {
	atomic.AddUint64(&counter, 1)
	return leaf(x) ^ (x >> 3)
}

func worker(id int, fd int, wg *sync.WaitGroup, calls *uint64) {
	defer wg.Done()
	if id < 4 {
		// Half the workers on threads of their own, so that hits come
		// from several threads whatever the scheduler does; the others
		// move between threads.
		runtime.LockOSThread()
	}
	buf := []byte("x")
	x := uint64(id)
	for atomic.LoadInt32(&stop) == 0 {
		x = hot(x)
		*calls++
		syscall.Write(fd, buf)
		garbage = make([]byte, 4096+int(x&1023))
		time.Sleep(300 * time.Microsecond)
	}
}

func spinner(wg *sync.WaitGroup) {
	defer wg.Done()
	s := uint64(1)
	for atomic.LoadInt32(&stop) == 0 {
		for i := 0; i < 20000000; i++ {
			s = s*6364136223846793005 + 1442695040888963407
		}
		time.Sleep(20 * time.Millisecond)
	}
	atomic.AddUint64(&spun, s|1)
}

func main() {
	runtime.GOMAXPROCS(4)
	fd, err := syscall.Open("/dev/null", syscall.O_WRONLY, 0)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	calls := make([]uint64, 8*8) // one cache line each
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go worker(i, fd, &wg, &calls[i*8])
	}
	wg.Add(1)
	go spinner(&wg)
	for atomic.LoadUint64(&counter) < 64 {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	var total uint64
	for i := 0; i < 8; i++ {
		total += calls[i*8]
	}
	if total == atomic.LoadUint64(&counter) && spun != 0 {
		fmt.Println("done ok", total)
	} else {
		fmt.Println("done BAD", total, counter, spun)
	}
}
