// SPDX-License-Identifier: LGPL-2.1-or-later
// Run-control corpus: C++ -O2 with exceptions. Four threads call
// catcher(int) in a loop; it calls thrower(int), which throws
// std::runtime_error on every other call, and catches it; it adds to
// the global rc_counter. Each round writes one byte to /dev/null and
// sleeps 300 us. Prints "ready" once all run; on a line (or EOF) on
// stdin it stops them and prints "done ok CALLS" if rc_counter and the
// number of catches agree with the calls counted, then exits 0.
#include <atomic>
#include <cstdio>
#include <fcntl.h>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

std::atomic<unsigned long> rc_counter;
static std::atomic<unsigned long> caught;
static std::atomic<bool> stop;

__attribute__((noinline)) int thrower(int x)
{
	if (x & 1)
		throw std::runtime_error("odd");
	return x / 2;
}

__attribute__((noinline)) int catcher(int x)
{
	rc_counter++;
	try {
		return thrower(x);
	} catch (const std::runtime_error &e) {
		caught++;
		return (int)e.what()[0];
	}
}

int main()
{
	int fd = open("/dev/null", O_WRONLY);
	std::vector<std::thread> ts;
	std::vector<unsigned long> calls(4 * 8);
	for (int t = 0; t < 4; t++)
		ts.emplace_back([t, fd, &calls] {
			unsigned long n = 0;
			int x = t;
			while (!stop) {
				x = catcher(x + 1) + t;
				n++;
				if (write(fd, "x", 1) != 1)
					abort();
				usleep(300);
			}
			calls[t * 8] = n;
		});
	while (rc_counter < 64)
		usleep(1000);
	std::printf("ready\n");
	std::fflush(stdout);
	std::string line;
	std::getline(std::cin, line);
	stop = true;
	unsigned long total = 0;
	for (int t = 0; t < 4; t++) {
		ts[t].join();
		total += calls[t * 8];
	}
	if (total == rc_counter && caught > 0 && caught < total)
		std::printf("done ok %lu\n", total);
	else
		std::printf("done BAD %lu %lu %lu\n", total, rc_counter.load(), caught.load());
	return 0;
}
