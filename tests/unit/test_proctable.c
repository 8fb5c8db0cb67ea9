/* The userspace process table: insert, update, delete under churn. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include "proctable.h"

static void test_basic(void **st)
{
	struct am_proctable t;
	assert_int_equal(am_proctable_init(&t, 4), 0);
	struct am_proc *p = am_proc_put(&t, 100, 1, 7, 0);
	assert_non_null(p);
	assert_int_equal(am_proc_set_exe(p, "/usr/bin/dash"), 0);
	p = am_proc_get(&t, 100);
	assert_string_equal(p->exe, "/usr/bin/dash");
	assert_int_equal(p->agent_id, 7);
	/* update keeps exe */
	p = am_proc_put(&t, 100, 2, 7, 1);
	assert_int_equal(p->ppid, 2);
	assert_string_equal(p->exe, "/usr/bin/dash");
	am_proc_del(&t, 100);
	assert_null(am_proc_get(&t, 100));
	am_proc_del(&t, 100); /* absent: no-op */
	am_proctable_free(&t);
}

/* Random churn checked against a plain array: catches probe-chain breakage
 * by deletion and growth. */
static void test_churn_against_model(void **st)
{
	enum { N = 5000 };
	static char present[N];
	struct am_proctable t;
	assert_int_equal(am_proctable_init(&t, 8), 0);
	srand(42);
	for (int i = 0; i < 200000; i++) {
		uint32_t pid = 1 + (uint32_t)(rand() % (N - 1));
		if (rand() % 3) {
			struct am_proc *p = am_proc_put(&t, pid, pid / 2, 1, pid % 5);
			assert_non_null(p);
			if (!present[pid]) {
				char e[32];
				snprintf(e, sizeof(e), "/bin/%u", pid);
				am_proc_set_exe(p, e);
			}
			present[pid] = 1;
		} else {
			am_proc_del(&t, pid);
			present[pid] = 0;
		}
	}
	uint32_t count = 0;
	for (uint32_t pid = 1; pid < N; pid++) {
		struct am_proc *p = am_proc_get(&t, pid);
		if (present[pid]) {
			char e[32];
			snprintf(e, sizeof(e), "/bin/%u", pid);
			assert_non_null(p);
			assert_string_equal(p->exe, e);
			count++;
		} else {
			assert_null(p);
		}
	}
	assert_int_equal(count, t.used);
	am_proctable_free(&t);
}

/* A double fork: the middle process exits first; its child's ancestry
 * must still name it until the child is gone, then both are dropped. */
static void test_exited_parent_kept_for_ancestry(void **st)
{
	struct am_proctable t;
	(void)st;
	assert_int_equal(am_proctable_init(&t, 4), 0);
	assert_non_null(am_proc_put(&t, 10, 1, 7, 0));
	assert_non_null(am_proc_fork(&t, 11, 10, 7, 1));
	assert_non_null(am_proc_fork(&t, 12, 11, 7, 2));
	am_proc_exit(&t, 11);                    /* middle gone, child lives */
	struct am_proc *mid = am_proc_get(&t, 11);
	assert_non_null(mid);
	assert_true(mid->exited);
	assert_int_equal(am_proc_get(&t, 12)->ppid, 11);
	am_proc_exit(&t, 12);                    /* last child: both go */
	assert_null(am_proc_get(&t, 12));
	assert_null(am_proc_get(&t, 11));
	assert_int_equal(am_proc_get(&t, 10)->nchild, 0);
	/* a leaf exits at once */
	assert_non_null(am_proc_fork(&t, 13, 10, 7, 1));
	am_proc_exit(&t, 13);
	assert_null(am_proc_get(&t, 13));
	/* a reused pid of an exited entry starts afresh */
	assert_non_null(am_proc_fork(&t, 14, 10, 7, 1));
	assert_non_null(am_proc_fork(&t, 15, 14, 7, 2));
	am_proc_exit(&t, 14);
	assert_non_null(am_proc_fork(&t, 14, 10, 7, 1));
	assert_false(am_proc_get(&t, 14)->exited);
	am_proctable_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_churn_against_model),
		cmocka_unit_test(test_exited_parent_kept_for_ancestry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
