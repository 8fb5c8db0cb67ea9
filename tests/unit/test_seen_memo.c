/* Allowed activity remembered in userspace (bpf_loader.h): a repeat is
 * recognised, its key is queued for the kernel on the first repeat and again
 * only once the kernel must have evicted it. No BPF object is loaded here:
 * the queue is observed through seen_n before am_bpf_seen_flush() empties it,
 * which, with nothing loaded, it does at once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "bpf_loader.h"

static struct am_seen_key key(uint32_t agent, uint64_t ino)
{
	struct am_seen_key k = { .agent_id = agent, .what = 0x10101, .a = 0xffff8880aa000000ull + ino,
				 .b = 0xffff888012340000ull, .c = ino };
	return k;
}

static const struct am_seen_memo *slot_of(const struct am_bpf *b, const struct am_seen_key *k)
{
	for (size_t i = 0; i < AM_SEEN_MEMO; i++)
		if (!memcmp(&b->memo[i].k, k, sizeof(*k)))
			return &b->memo[i];
	return NULL;
}

static void test_repeat_after_allow(void **st)
{
	struct am_bpf b = { 0 };
	b.memo = calloc(AM_SEEN_MEMO, sizeof(*b.memo));
	struct am_seen_key k = key(1, 42), other_agent = key(2, 42), other_file = key(1, 43);
	uint64_t t = 5000000000ull;

	assert_false(am_bpf_seen_repeat(&b, &k, t));          /* never judged */
	am_bpf_seen_allowed(&b, &k);
	assert_int_equal(slot_of(&b, &k)->sent_ns, 0);         /* once: not sent */
	assert_false(am_bpf_seen_repeat(&b, &other_agent, t)); /* the agent is part of it */
	assert_false(am_bpf_seen_repeat(&b, &other_file, t));

	assert_true(am_bpf_seen_repeat(&b, &k, t + 1000));     /* first repeat: sent */
	assert_int_equal(slot_of(&b, &k)->sent_ns, t + 1000);
	assert_true(am_bpf_seen_repeat(&b, &k, t + 2000000));  /* in flight: not again */
	assert_int_equal(slot_of(&b, &k)->sent_ns, t + 1000);
	/* repeats long after it was sent: the kernel lost it, send it again */
	assert_true(am_bpf_seen_repeat(&b, &k, t + 1000 + AM_SEEN_RESEND_NS + 1));
	assert_int_equal(slot_of(&b, &k)->sent_ns, t + 1000 + AM_SEEN_RESEND_NS + 1);
	assert_int_equal(b.seen_n, 0);                         /* nothing loaded: flushed */
	free(b.memo);
}

static void test_without_memo_keys_go_at_once(void **st)
{
	struct am_bpf b = { 0 };
	struct am_seen_key k = key(1, 7);

	for (int i = 0; i < 3 * AM_SEEN_BATCH; i++)   /* the queue never overflows */
		am_bpf_seen_allowed(&b, &k);
	assert_false(am_bpf_seen_repeat(&b, &k, 2));
	assert_int_equal(b.seen_n, 0);
}

static void test_collisions_forget_not_confuse(void **st)
{
	struct am_bpf b = { 0 };
	b.memo = calloc(AM_SEEN_MEMO, sizeof(*b.memo));
	/* more keys than slots: some are forgotten (judged again, never wrong) */
	int remembered = 0;
	for (uint64_t i = 0; i < 4 * AM_SEEN_MEMO; i++) {
		struct am_seen_key k = key(1, i);
		am_bpf_seen_allowed(&b, &k);
	}
	for (uint64_t i = 0; i < 4 * AM_SEEN_MEMO; i++) {
		struct am_seen_key k = key(1, i);
		remembered += am_bpf_seen_repeat(&b, &k, 2);
	}
	assert_true(remembered > 0 && remembered <= AM_SEEN_MEMO);
	struct am_seen_key never = key(9, 1);
	assert_false(am_bpf_seen_repeat(&b, &never, 2));
	free(b.memo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeat_after_allow),
		cmocka_unit_test(test_without_memo_keys_go_at_once),
		cmocka_unit_test(test_collisions_forget_not_confuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
