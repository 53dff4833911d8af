// SPDX-License-Identifier: LGPL-2.1-or-later
// A C++ program whose threads block inside functions with telling mangled
// names (namespaces, a template, a lambda, std::string, const methods,
// exceptions), for tests/cli/names.sh. Prints "ready" when every thread
// is about to block; kill it to end it.
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

namespace ns {
template <class T> struct Box {
	NOINLINE static T wait(T v)
	{
		pause();
		asm volatile("" ::: "memory");
		return v;
	}
};
struct Server {
	int fd = 0;
	NOINLINE int serve(const std::string &name) const
	{
		char c;
		int r = (int)read(fd, &c, 1);
		asm volatile("" ::: "memory");
		return r + (int)name.size();
	}
};
} // namespace ns

static int pipefd[2];

NOINLINE int thrower(int x)
{
	if (x == 42)
		throw std::runtime_error("42");
	return ns::Box<int>::wait(x) + 1;
}

static void *t_box(void *)
{
	try {
		thrower(3);
	} catch (const std::exception &) {
	}
	return nullptr;
}

static void *t_server(void *)
{
	ns::Server s;
	s.fd = pipefd[0];
	s.serve(std::string("a name long enough not to fit in the small buffer"));
	return nullptr;
}

int main()
{
	if (pipe(pipefd))
		return 1;
	pthread_t a, b;
	pthread_create(&a, nullptr, t_box, nullptr);
	pthread_create(&b, nullptr, t_server, nullptr);
	auto lambda = [](int n) NOINLINE {
		write(1, "ready\n", 6);
		pause();
		return n;
	};
	return lambda(1);
}
