/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Something of each kind `info os` lists, for gdb through dbg-server and
 * gdbserver (tests/integration/server_osdata.sh): /dev/null open, a
 * listening TCP socket on 0.0.0.0 (and one on ::1, a UDP one), a SysV
 * shared-memory segment, a semaphore set of 3 and a message queue holding
 * one 5-byte message, and a second thread. The program names itself
 * "os<&>\"'" (that name and the file it holds open, argv[1], need XML
 * escaping). The test reads mypid, tid2 and the rest with gdb. At
 * osdata_ready() the debugger looks; then everything is removed and the
 * program exits 0.
 * An alarm ends it after 120 s, removing the IPC objects too. */
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

volatile int shmkey, shmid = -1, semkey, semid = -1, msgkey, msqid = -1;
volatile int port, port6, uport, nullfd, oddfd, mypid, tid2;
static pthread_barrier_t started;
static int quit_pipe[2];

__attribute__((noinline)) void osdata_ready(void)
{
	__asm__ volatile("" ::: "memory");
}

static void remove_ipc(void)
{
	if (shmid >= 0)
		shmctl(shmid, IPC_RMID, NULL);
	if (semid >= 0)
		semctl(semid, 0, IPC_RMID);
	if (msqid >= 0)
		msgctl(msqid, IPC_RMID, NULL);
}

static void on_alarm(int sig)
{
	(void)sig;
	remove_ipc();
	_exit(3);
}

static void *thread_main(void *arg)
{
	(void)arg;
	tid2 = (int)syscall(SYS_gettid);
	pthread_barrier_wait(&started);
	char b;
	while (read(quit_pipe[0], &b, 1) > 0)
		;
	return NULL;
}

static int listen_on(int family, int type, int *ret_port)
{
	int fd = socket(family, type, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 1) < 0) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return -1;
	}
	*ret_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					    : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

int main(int argc, char **argv)
{
	signal(SIGALRM, on_alarm);
	prctl(PR_SET_NAME, "os<&>\"'", 0, 0, 0);
	mypid = getpid();
	alarm(120);
	nullfd = open("/dev/null", O_RDONLY);
	oddfd = argc > 1 ? open(argv[1], O_RDWR | O_CREAT, 0600) : -1;
	int p4, p6 = 0, pu;
	int s4 = listen_on(AF_INET, SOCK_STREAM, &p4);
	int s6 = listen_on(AF_INET6, SOCK_STREAM, &p6); /* no IPv6: none */
	int su = listen_on(AF_INET, SOCK_DGRAM, &pu);
	port = p4, port6 = s6 >= 0 ? p6 : 0, uport = pu;
	/* keys of our own, unlikely to be taken: a clash means try again */
	int base = 0x0d500000 | ((getpid() & 0xffff) << 4);
	for (int i = 0; i < 16 && shmid < 0; i++)
		shmid = shmget(shmkey = base + i, 4096, IPC_CREAT | IPC_EXCL | 0666);
	for (int i = 0; i < 16 && semid < 0; i++)
		semid = semget(semkey = base + i, 3, IPC_CREAT | IPC_EXCL | 0666);
	for (int i = 0; i < 16 && msqid < 0; i++)
		msqid = msgget(msgkey = base + i, IPC_CREAT | IPC_EXCL | 0666);
	struct {
		long type;
		char text[5];
	} m = { 1, "hello" };
	if (msqid >= 0)
		msgsnd(msqid, &m, sizeof(m.text), 0);
	if (nullfd < 0 || s4 < 0 || su < 0 || shmid < 0 || semid < 0 || msqid < 0 ||
	    pipe(quit_pipe) < 0) {
		perror("srv_osdata setup");
		remove_ipc();
		return 2;
	}
	pthread_barrier_init(&started, NULL, 2);
	pthread_t t;
	if (pthread_create(&t, NULL, thread_main, NULL)) {
		remove_ipc();
		return 2;
	}
	pthread_barrier_wait(&started);
	printf("shm %d %d sem %d %d msg %d %d port %d %d %d\n", shmkey, shmid, semkey, semid,
	       msgkey, msqid, port, port6, uport);
	fflush(stdout);
	osdata_ready();
	remove_ipc();
	close(quit_pipe[1]);
	pthread_join(t, NULL);
	if (argc > 1)
		unlink(argv[1]);
	return 0;
}
