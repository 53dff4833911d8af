// SPDX-License-Identifier: LGPL-2.1-or-later
// Corpus: C++ -O2 with exceptions. One thread blocked in the .cold part
// of a split function (the unlikely branch that throws), one thread
// throwing and catching in a loop, three threads blocked in a condition
// variable under a few frames. Prints "ready" when they run.
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unistd.h>
#include <vector>

static std::mutex m;
static std::condition_variable cv;
static bool never;
volatile int sinkv;

__attribute__((noinline)) int thrower(int x)
{
	if (__builtin_expect(x > 1000, 0)) {
		// The cold path: GCC moves it to thrower.cold. The thread
		// blocks here before it would throw.
		while (sinkv >= 0)
			pause();
		throw std::runtime_error("cold");
	}
	return x + 1;
}

__attribute__((noinline)) void catcher(int i)
{
	try {
		if (i >= 0)
			throw std::out_of_range("loop");
	} catch (const std::exception &e) {
		sinkv += (int)e.what()[0];
	}
}

__attribute__((noinline)) void waiter(int depth)
{
	if (depth > 0) {
		waiter(depth - 1);
		sinkv++;
		return;
	}
	std::unique_lock<std::mutex> l(m);
	cv.wait(l, [] { return never; });
}

int main()
{
	std::vector<std::thread> ts;
	ts.emplace_back([] { sinkv = thrower(2000 + sinkv); });
	ts.emplace_back([] {
		for (int i = 0;; i++)
			catcher(i);
	});
	for (int i = 0; i < 3; i++)
		ts.emplace_back([i] { waiter(i + 1); });
	usleep(100000);
	std::printf("ready\n");
	std::fflush(stdout);
	for (auto &t : ts)
		t.join();
}
