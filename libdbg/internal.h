/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal definitions shared by the modules. Nothing here is public.
 */
#ifndef DBG_INTERNAL_H
#define DBG_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>
#include <pthread.h>

#include <dbg.h>

#include "bp-int.h"
#include "watch-int.h"
#include "step-int.h"
#include "sys-int.h"

#define DBG__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DBG__PAGE_SIZE 4096u

/* Validate an options struct per the libbpf rules: known size prefix,
 * and any bytes beyond what we know must be zero. */
bool dbg__opts_valid(const void *opts, size_t known_sz);

/* ---- threads ------------------------------------------------------- */

enum dbg__tstate {
	T_RUNNING = DBG_THREAD_RUNNING,
	T_STOPPED = DBG_THREAD_STOPPED,
	T_LISTENING = DBG_THREAD_GROUP_STOPPED, /* group-stop, PTRACE_LISTEN */
	T_EXITED = DBG_THREAD_EXITED,
};

struct dbg__thread {
	pid_t tid;
	enum dbg__tstate state;
	/* The signal to give on resume (signal-delivery-stop). */
	int pending_sig;
	/* Stopped in a group-stop (its WSTOPSIG is the stop signal). */
	bool group_stop;
	/* We sent PTRACE_INTERRUPT and have not seen its trap yet; an
	 * interrupt trap may still come after the next resume. */
	bool interrupt_pending;
	/* A trap other than our interrupt's was reaped while one was
	 * pending: the interrupt, if sent after that trap began, is still
	 * pending in the kernel (it re-traps the thread at once after the
	 * resume) or, if sent before, was consumed by the trap. Until its
	 * next interrupt trap, a stop-all looks for a stop already there
	 * before interrupting it again (see interrupt_thread()). */
	bool interrupt_stale;
	/* Its last stop was the trap of our PTRACE_INTERRUPT (a stop of
	 * every thread, dbg_proc_stop_thread(), a stale interrupt after a
	 * resume): nothing of its own happened; run control goes on with
	 * what the thread was doing (a single-step in flight is asked
	 * again, not taken as ended). */
	bool interrupted;
	/* A new clone child: its first stop is the auto-attach trap. */
	bool expect_initial_stop;
	/* Resumed by PTRACE_SINGLESTEP (resume_issue), until it stops. */
	bool single_stepping;
	/* Stopped in a signal-delivery-stop: a resume's signal is delivered
	 * (from any other stop the kernel ignores it). */
	bool sig_stop;
	/* A signal resume_issue sent with tgkill (the thread was not in a
	 * signal-delivery-stop): its stop is ours, undone with the signal. */
	int injected_sig;
	/* Its last stop was a stale interrupt's trap taken right after a
	 * single-step resume, before the instruction ran: the step is to be
	 * issued again when the stop is undone (settle in proc.c). */
	bool restep;
	bool regs_valid;
	struct user_regs_struct regs;
	/* Debug registers we changed, with their values before us. */
	uint8_t dr_saved_mask;
	uint64_t dr_saved[8];
	/* Run-control modules' per-thread state (their *-int.h). */
	struct dbg__bp_thread bp;
	struct dbg__watch_thread watch;
	struct dbg__step_thread step;
	struct dbg__sys_thread sys;
};

/* A fork child kept traced until the caller takes it over. */
struct dbg__child {
	pid_t pid;
	bool stopped;
	bool vfork; /* shares the parent's memory until it execs or exits */
};

struct dbg__event_queue {
	struct dbg_event *ev;
	size_t head, len, cap;
};

/* ---- memory -------------------------------------------------------- */

struct dbg__cache_page {
	uint64_t addr;        /* page address; UINT64_MAX when empty */
	uint64_t generation;  /* valid only if == mem.generation */
	uint8_t *data;
};

struct dbg__mem {
	int mem_fd;                    /* /proc/PID/mem, O_RDWR or O_RDONLY */
	enum dbg_mem_backend forced;
	bool unavailable[DBG_MEM__NR_BACKENDS];
	bool kernel_fast_path;
	size_t cache_cap;              /* pages */
	struct dbg__cache_page *cache; /* cache_cap slots, hashed */
	uint8_t *cache_mem;
	uint64_t generation;           /* bumped on resume/write/exec */
	uint64_t stopped_gen;          /* generation + 1 when all were stopped */
	struct dbg_mem_stats stats;
};

/* ---- the process ---------------------------------------------------- */

struct dbg_proc {
	pid_t pid;
	pid_t tracer_tid;
	pid_t tracer_pid;
	pthread_t owner;
	/* A MADV_WIPEONFORK page: reads zero in a forked child, so the
	 * caller check needs no system call (NULL: compare getpid()). */
	volatile uint64_t *fork_guard;
	unsigned int flags;
	int stop_timeout_ms;
	dbg_log_fn log_fn;
	void *log_ctx;
	bool exited;      /* every thread is gone */
	/* The leader exited (pthread_exit) while other threads live: it is
	 * an untraced zombie, not in the thread table. */
	bool leader_zombie;
	int64_t leader_look_ns; /* dbg_proc_wait's next look for a leader that exited alone */
	/* The task whose /proc/TID files and process_vm_* calls name the
	 * address space: the pid, or a live thread while the leader is a
	 * zombie (the leader's mm, maps and mem are gone). */
	pid_t mm_tid;
	/* The process exit to report once the queue is drained, when the
	 * last thread of a process with a zombie leader exited. */
	bool final_pending;
	struct dbg_event final_event;
	/* Not NULL once an exec made the target something other than an
	 * x86_64 process: what it is now (registers are refused). */
	const char *foreign_arch;

	struct dbg__thread *threads;
	size_t nthreads, cap_threads;
	/* tids whose exit status we still have to reap silently (threads
	 * killed by an exec in another thread). */
	pid_t *ghosts;
	size_t nghosts, cap_ghosts;
	struct dbg__child *children;
	size_t nchildren, cap_children;
	/* The last tids whose exit we reaped: a clone event that arrives
	 * after its child already lived and died must not bring it back. */
	pid_t reaped[64];
	unsigned int nreaped;

	struct dbg__event_queue events;
	int sigfd;        /* signalfd for SIGCHLD; the pollable fd */
	size_t reap_cursor; /* where event.c's probe of interrupted threads resumes */

	/* maps */
	struct dbg_maps *maps;
	bool maps_stale;
	int maps_fd;      /* /proc/PID/maps, for PROCMAP_QUERY */
	int procmap_query; /* 1 works, 0 unknown, -1 unsupported */

	struct dbg__mem mem;

	/* The fork hooks are about a vfork (the child shares our memory). */
	bool vforking;
	/* Set while dbg_proc_attach_child() sets up the child's handle: the
	 * parent's handle, and whether the child was vforked. */
	struct dbg_proc *forked_from;
	bool vfork_child;
	/* The list of live handles (proc.c), for dbg__proc_owned_elsewhere. */
	struct dbg_proc *next_live;

	/* Run-control modules' per-process state (their *-int.h). */
	struct dbg__bp_proc bp;
	struct dbg__watch_proc watch;
	struct dbg__step_proc step;
	struct dbg__sys_proc sys;

	char errmsg[512];
};

/* Record a message for dbg_proc_errmsg() (and the log); returns err. */
int dbg__fail(struct dbg_proc *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void dbg__log(struct dbg_proc *p, enum dbg_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Is @tgid the process of another live handle of @p's tracer thread? A
 * host may trace several processes (a followed fork child, a second
 * attach): one handle's waits must never adopt another's tasks. */
bool dbg__proc_owned_elsewhere(const struct dbg_proc *p, pid_t tgid);
/* The live handle after @q (NULL: the first) that the thread tracing @p
 * traces too, @p left out; NULL at the end. */
struct dbg_proc *dbg__proc_next_peer(const struct dbg_proc *p, const struct dbg_proc *q);

/* The caller check every public entry with a proc does first. */
int dbg__enter(struct dbg_proc *p);

/* ---- proc: thread table (thread.c) ----------------------------------- */

struct dbg__thread *dbg__thread_find(struct dbg_proc *p, pid_t tid);
/* Add @tid (running, or found as it is); returns the entry, or NULL. */
struct dbg__thread *dbg__thread_add(struct dbg_proc *p, pid_t tid);
/* Drop @t; entries after it move (pointers into the table go stale). */
void dbg__thread_remove(struct dbg_proc *p, struct dbg__thread *t);
/* The thread that names the address space (p->mm_tid: the leader, or
 * another once it exited) may be gone before we know it (the leader in
 * do_exit, a thread not reaped yet): make the next live-looking one
 * mm_tid. false when there is none. */
bool dbg__mm_tid_next(struct dbg_proc *p);
/* A running leader that exited alone (no status comes for that): looked
 * at no more than every 10 ms (@now: at once); when it has, it is marked
 * exited and a THREAD_EXIT of the pid is queued (true). dbg_proc_wait
 * looks now and then, dbg_proc_threads always (a list taken right after a
 * thread returned from pthread_join on the leader must not name it). */
bool dbg__leader_look(struct dbg_proc *p, bool now);
bool dbg__ghost_take(struct dbg_proc *p, pid_t tid);
void dbg__ghost_add(struct dbg_proc *p, pid_t tid);
struct dbg__child *dbg__child_find(struct dbg_proc *p, pid_t pid);
struct dbg__child *dbg__child_add(struct dbg_proc *p, pid_t pid);
void dbg__child_remove(struct dbg_proc *p, struct dbg__child *c);
int dbg__event_push(struct dbg_proc *p, const struct dbg_event *ev);
bool dbg__event_pop(struct dbg_proc *p, struct dbg_event *ev);
void dbg__mark_exited_if_empty(struct dbg_proc *p);
/* What /proc/TID/status says about a task. */
struct dbg__task_status {
	pid_t tgid, ppid, tracer;
	int threads; /* of its thread group, zombies and the exiting included */
	char state;
};
int dbg__task_status(pid_t tid, struct dbg__task_status *st);

/* ---- proc: wait statuses to raw events (event.c) ---------------------- */

enum dbg__disposition {
	D_REPORT,  /* *ev is an event for the caller */
	D_QUIET,   /* an internal stop: the thread is stopped, nothing to say */
	D_NONE,    /* nothing happened to a live thread we track */
};
int64_t dbg__now_ns(void);
/* A CLOCK_MONOTONIC deadline @timeout_ms from now; -1 for negative. */
int64_t dbg__deadline_after(int timeout_ms);
/* Wait until one of our tracees has a status or @deadline passes:
 * 1 with *tid and *status, 0 on timeout, or a negative errno. */
int dbg__reap_one(struct dbg_proc *p, int64_t deadline, pid_t *tid, int *status);
/* The one place a wait status changes the thread table. */
enum dbg__disposition dbg__handle_status(struct dbg_proc *p, pid_t tid, int status,
					 struct dbg_event *ev);

/* The address of a `syscall` instruction in the target's [vdso], or 0
 * (inject.c). */
uint64_t dbg__find_syscall_insn(struct dbg_proc *p);
/* Stopped thread @t runs system call @nr at @at, waiting for @t alone
 * (inject.c; dbg_inject_syscall() and displaced stepping). */
int dbg__syscall_in_thread(struct dbg_proc *p, struct dbg__thread *t, uint64_t at, long nr,
			   const uint64_t a[6], int64_t *ret, pid_t *ret_child, int *ret_sig);
/* waitpid() for @tid that returns 0 for a dying leader (bp.c). */
pid_t dbg__bp_waitpid(struct dbg_proc *p, pid_t tid, int *st, bool nohang);

/* ---- proc: lifecycle (proc.c) ---------------------------------------- */

/* NULL for an x86_64 program, else what @pid runs ("32-bit (i386)"). */
const char *dbg__exe_arch(pid_t pid, bool *ret_known);
/* A stopped thread to issue PEEK/POKE through, or NULL. */
struct dbg__thread *dbg__any_stopped(struct dbg_proc *p);
/* All live threads are in a ptrace-stop or group-stop: memory is still. */
bool dbg__all_stopped(const struct dbg_proc *p);
/* Check that @tid is known and in a ptrace-stop. */
int dbg__stopped_thread(struct dbg_proc *p, pid_t tid, struct dbg__thread **ret_t);

/*
 * ---- module hooks ----------------------------------------------------
 * How the modules that keep per-process or per-thread state (maps, mem,
 * regs; run control next) hear about the life of the target: proc calls
 * each module's table through the dbg__hook_*() functions, in the order
 * of the list in proc.c (fini in reverse), and calls nothing else of
 * theirs. A module adds itself to that list; proc needs no new call.
 * Every member may be NULL. See doc/process.md, "Layers".
 */
struct dbg__hooks {
	const char *name;
	/* The handle was made: set fields (no system call, cannot fail). */
	void (*init)(struct dbg_proc *p);
	/* Attached, every thread stopped: open what the module needs. A
	 * failure fails the attach (or spawn, attach_child). */
	int (*setup)(struct dbg_proc *p);
	/* @t, stopped, is about to be resumed with ptrace request *req
	 * (PTRACE_CONT, PTRACE_SINGLESTEP or PTRACE_SYSCALL; group-stopped
	 * threads that get PTRACE_LISTEN are not asked). A module may change
	 * *req (catching syscalls: CONT -> SYSCALL) or do work first
	 * (stepping off a breakpoint). Return 0 to go on, 1 when the module
	 * has resumed the thread itself (displaced stepping; state set to
	 * T_RUNNING), or a negative errno to fail the resume. Called in list
	 * order; a module that returns 1 ends the walk. */
	int (*prepare)(struct dbg_proc *p, struct dbg__thread *t, int *req);
	/* Thread @t was just resumed (CONT, SINGLESTEP, SYSCALL or LISTEN). */
	void (*resume)(struct dbg_proc *p, struct dbg__thread *t);
	/* A stop of @t that event.c made into *ev: a TRAP (a SIGTRAP from
	 * the kernel, siginfo filled), a SIGNAL, or a syscall-stop (kind
	 * DBG_EVENT_TRAP with signo SIGTRAP | 0x80). Return D_NONE when it
	 * is not the module's (the next module is asked), D_REPORT after
	 * rewriting *ev into the module's event (BREAKPOINT, WATCHPOINT,
	 * STEP, SYSCALL_*), or D_QUIET to swallow it (the thread stays
	 * stopped; outside stop-all it is resumed at once, with
	 * t->pending_sig). The module must not change the thread table.
	 * Unclaimed syscall-stops are quiet; other unclaimed stops are
	 * reported as they are. */
	enum dbg__disposition (*stop)(struct dbg_proc *p, struct dbg__thread *t,
				      struct dbg_event *ev);
	/* @t execed: a new program; every other thread is gone. */
	void (*exec)(struct dbg_proc *p, struct dbg__thread *t);
	/* @t forked or vforked @child (p->vforking says which); followed:
	 * kept traced for dbg_proc_attach_child(), else detached right
	 * after this hook (the child is still stopped: a module may write
	 * its memory, e.g. take breakpoints out). */
	void (*fork)(struct dbg_proc *p, struct dbg__thread *t, pid_t child, bool followed);
	/* @t's vfork child left the shared memory (exec or exit). */
	void (*vfork_done)(struct dbg_proc *p, struct dbg__thread *t);
	/* New thread @t entered the table: a clone child (not yet run),
	 * or a thread found while attaching. */
	void (*clone)(struct dbg_proc *p, struct dbg__thread *t);
	/* @t ended (its exit status came, or it is gone without one) and
	 * leaves the table after this hook; other threads may be running.
	 * Drop what the module keeps in the process for it. */
	void (*thread_exit)(struct dbg_proc *p, struct dbg__thread *t);
	/* @t, in a ptrace-stop, is about to be detached: undo what the
	 * module changed in it. */
	void (*detach)(struct dbg_proc *p, struct dbg__thread *t);
	/* The handle is being freed (the target may be gone). */
	void (*fini)(struct dbg_proc *p);
};
extern const struct dbg__hooks dbg__maps_hooks, dbg__mem_hooks, dbg__regs_hooks;
/* Run control, in the order their stop hooks are asked (watch.c, bp.c,
 * step.c, sys.c; see proc.c's list for why watch is first). A module not built yet is a table of NULLs. */
extern const struct dbg__hooks dbg__bp_hooks, dbg__watch_hooks, dbg__step_hooks, dbg__sys_hooks;

void dbg__hook_init(struct dbg_proc *p);
int dbg__hook_setup(struct dbg_proc *p);
int dbg__hook_prepare(struct dbg_proc *p, struct dbg__thread *t, int *req);
void dbg__hook_resume(struct dbg_proc *p, struct dbg__thread *t);
enum dbg__disposition dbg__hook_stop(struct dbg_proc *p, struct dbg__thread *t,
				     struct dbg_event *ev);
void dbg__hook_exec(struct dbg_proc *p, struct dbg__thread *t);
void dbg__hook_fork(struct dbg_proc *p, struct dbg__thread *t, pid_t child, bool followed);
void dbg__hook_vfork_done(struct dbg_proc *p, struct dbg__thread *t);
void dbg__hook_clone(struct dbg_proc *p, struct dbg__thread *t);
void dbg__hook_thread_exit(struct dbg_proc *p, struct dbg__thread *t);
void dbg__hook_detach(struct dbg_proc *p, struct dbg__thread *t);
void dbg__hook_fini(struct dbg_proc *p);

/* Maps: the table after exec, and on demand. */
void dbg__maps_invalidate(struct dbg_proc *p);
int dbg__maps_refresh(struct dbg_proc *p);
/* The table was wrong about @addr: re-learn that one address. */
int dbg__maps_refresh_addr(struct dbg_proc *p, uint64_t addr);
/* Current table (refreshed if stale). */
int dbg__maps_get(struct dbg_proc *p, const struct dbg_maps **ret);


/* ---- symbols (sym.c), shared with unwind.c --------------------------- */

struct Dwfl;
struct Dwfl_Module;

/* A target range that maps file bytes read-only: reads of it can be
 * served from the local copy of the file. */
struct dbg__seg {
	uint64_t start, end, offset;
};

/* One mapped ELF file (or the vdso) and its local copy. */
struct dbg__image {
	char *path;             /* as in maps */
	bool deleted, vdso;
	uint64_t start, end;    /* span of its VMAs */
	uint64_t bias;
	const uint8_t *data;    /* the file, mmapped (or the vdso, malloced) */
	size_t size;
	struct dbg__seg *segs;
	size_t nsegs;
	uint64_t relro_lo, relro_hi; /* relocated at load: never served locally */
	/* .eh_frame_hdr's binary-search table (target addresses), for
	 * libunwind; eh_hdr == 0 when the image has none. */
	uint64_t eh_hdr, eh_table, eh_count;
	struct Dwfl_Module *mod;
	const char *error;      /* why the file is not usable, or NULL */
	/* Its ELF symbol table (symtab.c), built on the first lookup, and
	 * the separate debuginfo it came from, mapped, for a stripped file. */
	struct dbg__symtab *symtab;
	const uint8_t *debug_data;
	size_t debug_size;
	/* dbg_sym_module()'s answers, once asked (mod_info). */
	bool mod_info, has_symbols, has_dwarf;
	const uint8_t *build_id;
	size_t build_id_len;
	/* Address -> compile unit, from .debug_aranges (sym.c), built on
	 * the first line lookup; NULL until then. */
	struct dbg__cuindex *cus;
};

/* A recent address's answers: stacks repeat the same return addresses
 * (recursion, the same call paths in many threads), and libdw's answer
 * walks the DIE tree each time. */
#define DBG__SYMCACHE_SLOTS 1024
#define DBG__SYMCACHE_LOCS 8
struct dbg__symcache_entry {
	uint64_t key;           /* the address + 1; 0: empty */
	int sym_rc;             /* dbg_sym_lookup()'s result, 1 = not yet asked */
	int nlocs;              /* dbg_sym_srclocs()'s, 0 = not yet asked */
	struct dbg_symbol sym;
	struct dbg_srcloc locs[DBG__SYMCACHE_LOCS];
};

struct dbg_sym {
	struct dbg_proc *proc;
	struct dbg__symcache *cache; /* DBG__SYMCACHE_SLOTS answers (sym.c), or NULL */
	struct Dwfl *dwfl;
	char *debuginfo_path;
	unsigned int threads;   /* for inflating debuginfo; 0, 1: none */
	unsigned int flags;     /* enum dbg_sym_flags */
	char *cache_dir;        /* dbg_sym_opts.cache_dir, or NULL */
	uint64_t cache_max;     /* bytes; 0: the default */
	struct dbg__image *images; /* sorted by start, disjoint */
	size_t nimages;
	size_t hint;            /* the last image found */
	char exe[4096];         /* the main executable's path, as in maps */
	unsigned int generation; /* bumped each time the table is rebuilt */
	/* libdw's unwinder: its thread callbacks are attached to the Dwfl
	 * once, and serve whichever unwind is in progress. */
	bool dwfl_attached;
	void *unwind_ctx;
};

/* The image containing @addr, or NULL. */
struct dbg__image *dbg__sym_image(struct dbg_sym *s, uint64_t addr);
/* The local copy of the bytes at target address @addr (a read-only file
 * mapping, not RELRO), with how many follow in *ret_avail; or NULL. */
const uint8_t *dbg__sym_local(struct dbg_sym *s, uint64_t addr, size_t *ret_avail);
/* Copy @len bytes at @addr from the local copy of a read-only file
 * mapping; false when they are not all there. */
bool dbg__sym_read_local(struct dbg_sym *s, uint64_t addr, void *buf, size_t len);

/* Rewrite the separate debuginfo in @fd with its compressed debug
 * sections inflated (on up to @threads threads) into a memfd; returns it,
 * or -1 to use @fd as it is. (debuginfo.c) */
int dbg__debuginfo_inflate(int fd, unsigned int threads);

/* The prepared (inflated) form of the separate debuginfo in @fd, whose
 * build-id is @id: from the persistent cache, or inflated and stored
 * there; or -1 to use @fd as it is. (symcache.c) */
int dbg__symcache_debuginfo(struct dbg_sym *s, int fd, const uint8_t *id, int idlen);

/* ---- ELF symbol tables (symtab.c) ------------------------------------ */

/* The symbol of @im holding @addr (see symtab.c for the rule): 0;
 * -ENOENT; -ENOMEM. */
int dbg__symtab_lookup(struct dbg_sym *s, struct dbg__image *im, uint64_t addr,
		       struct dbg_symbol *ret);
/* How many symbols @im's table has (0: none), or -ENOMEM. */
int dbg__symtab_count(struct dbg_sym *s, struct dbg__image *im);
/* The address of the function or object @name in @im. */
bool dbg__symtab_find(struct dbg_sym *s, struct dbg__image *im, const char *name, uint64_t *ret);
void dbg__symtab_free(struct dbg__image *im);
/* Open the separate debuginfo of the ELF image @d (mapped from @file, as
 * in maps): by build-id under the search path's absolute directories (the
 * target's root first), else by .gnu_debuglink (checked by build-id, or
 * its CRC), next to the file, in its .debug/ and under the search path.
 * Its fd, the path in @path, *ret_by_id; or -1. */
int dbg__debug_open(struct dbg_sym *s, const char *file, bool vdso, const uint8_t *d, size_t size,
		    bool *ret_by_id, char *path, size_t cap);
/* The GNU build-id in the section headers of the ELF file in @d: its
 * length (*ret points into @d), or 0. */
int dbg__elf_build_id(const uint8_t *d, size_t size, const uint8_t **ret);

/* ---- compiled unwind rules (cfi.c) ----------------------------------- */

/* The callee-saved registers a rule tracks, by DWARF number: rbx, rbp,
 * r12-r15 (rbp at index DBG__CFI_RBP). */
#define DBG__CFI_SAVED 6
#define DBG__CFI_RBP 1
extern const int dbg__cfi_tracked[DBG__CFI_SAVED];

/* An address's unwind rule in its simple form: CFA = rsp or rbp plus an
 * offset; the return address, and each saved register in saved_mask, at
 * an offset from the CFA; the other tracked registers unchanged. */
struct dbg__cfa_rule {
	uint8_t cfa_reg;      /* DWARF 6 (rbp) or 7 (rsp) */
	uint8_t ra_undefined; /* the outermost frame */
	uint8_t saved_mask;   /* bit i: tracked register i is saved */
	int32_t cfa_off;
	int32_t ra_off;
	int32_t saved_off[DBG__CFI_SAVED];
};

/* The CFI lookup state of one unwinder: per module, the tables cfi.c
 * builds when .eh_frame_hdr is missing or does not cover a pc. */
struct dbg__cfi;
struct dbg__cfi *dbg__cfi_new(struct dbg_sym *s);
void dbg__cfi_free(struct dbg__cfi *c);

/* A search table entry, as in .eh_frame_hdr and libunwind's table_entry:
 * a function's start and its FDE, each relative to a base. */
struct dbg__cfi_entry {
	int32_t start, fde;
};

/* One module's tables (cfi.c builds them on first use). */
struct dbg__cfi_image {
	bool eh_done, df_done;
	/* .eh_frame without .eh_frame_hdr: entries relative to eh_base, the
	 * section's target address (start and FDE alike). */
	uint64_t eh_base;
	struct dbg__cfi_entry *eh;
	size_t neh;
	/* .debug_frame: the section's bytes (local: the file's, or df_own
	 * inflated), starts relative to df_bias (link-time addresses), FDEs
	 * to the section. */
	const uint8_t *df_data;
	size_t df_size;
	uint8_t *df_own;
	uint64_t df_bias;
	struct dbg__cfi_entry *df;
	size_t ndf;
};

/* @im's tables, the .debug_frame one too when @debug_frame; -ENOMEM. */
int dbg__cfi_image_tables(struct dbg__cfi *c, struct dbg__image *im, bool debug_frame,
			  struct dbg__cfi_image **ret);

/* The rule at @pc (already pc - 1 for a return address), from
 * .eh_frame (by its header's table or ours) or else .debug_frame: 0;
 * -ENOENT no FDE covers it; -ENOTSUP not in the simple form (a signal
 * frame, an expression); -EINVAL malformed CFI; -ENOMEM. */
int dbg__cfi_rule(struct dbg__cfi *c, uint64_t pc, struct dbg__cfa_rule *ret);

/* A thread stopped right after a syscall instruction no FDE covers, the
 * instruction before it covered: glibc's clone and clone3 wrappers end
 * the parent's CFI before the syscall (the child goes on on another
 * stack). For the parent the syscall changed no register the CFI uses:
 * returns the address whose row holds at @pc (pc - 3, the last byte
 * before the syscall), or 0 when @pc is not such a gap. For the
 * innermost frame only. */
uint64_t dbg__cfi_syscall_gap(struct dbg__cfi *c, uint64_t pc);

/* Read a whole small /proc file into buf (NUL-terminated). Returns the
 * length or -errno. */
ssize_t dbg__read_file(const char *path, char *buf, size_t size);
/* @path mapped read-only whole (an ELF file to scan: at least an ELF
 * header long), its size in *ret_size; NULL if it cannot be. munmap()
 * it after. */
const uint8_t *dbg__map_elf_file(const char *path, size_t *ret_size);

#endif /* DBG_INTERNAL_H */
