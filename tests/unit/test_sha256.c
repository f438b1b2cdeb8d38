/*
 * test_sha256.c - SHA-256 against the FIPS 180-4 / NIST examples, the padding
 * boundaries, and incremental updates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sha256.h"

static void s_check(const void *data, size_t len, const char *want)
{
	uint8_t d[SHA256_DIGEST_LEN];
	char hex[SHA256_HEX_LEN];

	sha256(data, len, d);
	assert_string_equal(sha256_hex(d, 64, hex), want);
}

/* NIST "SHA256.pdf" example: one block. */
static void test_abc_is_the_one_block_example(void **state)
{
	(void)state;
	s_check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* NIST example: two blocks (448 bits of message). */
static void test_448_bit_message_is_the_two_block_example(void **state)
{
	static const char m[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	(void)state;
	s_check(m, strlen(m), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_empty_message(void **state)
{
	(void)state;
	s_check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* FIPS 180-2 appendix/NIST: 896-bit message. */
static void test_896_bit_message(void **state)
{
	static const char m[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	                        "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	(void)state;
	s_check(m, strlen(m), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

/* NIST example: one million 'a', fed in uneven pieces. */
static void test_million_a_fed_in_pieces(void **state)
{
	uint8_t d[SHA256_DIGEST_LEN];
	char hex[SHA256_HEX_LEN];
	char chunk[1000];
	sha256_t c;
	size_t left = 1000000, step = 1;

	(void)state;
	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&c);
	while (left > 0) {
		size_t n = step < left ? step : left;

		sha256_update(&c, chunk, n);
		left -= n;
		step = step % 977 + 13; /* uneven sizes, at most 989, cross block edges */
	}
	sha256_final(&c, d);
	assert_string_equal(sha256_hex(d, 64, hex),
	                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the padding edges: 55 bytes is the longest message whose
 * length still fits in its last block, 56 needs an extra one.  Digests from
 * an independent implementation (Python hashlib). */
static void test_padding_boundaries(void **state)
{
	static const struct {
		size_t n;
		const char *hex;
	} v[] = {
		{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
		{ 57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6" },
		{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
		{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
		{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
		{ 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
		{ 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
		{ 128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e" },
	};
	char buf[128];

	(void)state;
	memset(buf, 'a', sizeof(buf));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		s_check(buf, v[i].n, v[i].hex);
}

static void test_byte_at_a_time_equals_one_call(void **state)
{
	uint8_t a[SHA256_DIGEST_LEN], b[SHA256_DIGEST_LEN];
	char m[300];
	sha256_t c;

	(void)state;
	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (char)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(m); len += 23) {
		sha256(m, len, a);
		sha256_init(&c);
		for (size_t i = 0; i < len; i++)
			sha256_update(&c, m + i, 1);
		sha256_final(&c, b);
		assert_memory_equal(a, b, sizeof(a));
	}
}

static void test_hex_prefix_is_truncated_and_terminated(void **state)
{
	uint8_t d[SHA256_DIGEST_LEN];
	char hex[SHA256_HEX_LEN];

	(void)state;
	sha256("abc", 3, d);
	assert_string_equal(sha256_hex(d, 32, hex), "ba7816bf8f01cfea414140de5dae2223");
	assert_string_equal(sha256_hex(d, 3, hex), "ba7");
	assert_string_equal(sha256_hex(d, 0, hex), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abc_is_the_one_block_example),
		cmocka_unit_test(test_448_bit_message_is_the_two_block_example),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_896_bit_message),
		cmocka_unit_test(test_million_a_fed_in_pieces),
		cmocka_unit_test(test_padding_boundaries),
		cmocka_unit_test(test_byte_at_a_time_equals_one_call),
		cmocka_unit_test(test_hex_prefix_is_truncated_and_terminated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
