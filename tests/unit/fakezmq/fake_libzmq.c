/*
 * fake_libzmq.c - a stand-in libzmq.so.5 that exports every function
 * common/zmq_load.h looks up and says it is libzmq 4.1.0, for tests of the
 * version check: zmq_load_from() on it, or a stage started with
 * LD_LIBRARY_PATH naming its directory, must refuse it.  Only zmq_version is
 * ever called; the others exist for dlsym to find.  Built by the Makefile
 * (build/MODE/tests/fakezmq/libzmq.so.5) and by test_deploy.py.
 */
void zmq_version(int *major, int *minor, int *patch);

void zmq_version(int *major, int *minor, int *patch)
{
	*major = 4;
	*minor = 1;
	*patch = 0;
}

#define STUB(name)                                                                                 \
	int name(void);                                                                            \
	int name(void)                                                                             \
	{                                                                                          \
		return -1;                                                                         \
	}

STUB(zmq_has)
STUB(zmq_strerror)
STUB(zmq_ctx_new)
STUB(zmq_ctx_term)
STUB(zmq_socket)
STUB(zmq_close)
STUB(zmq_setsockopt)
STUB(zmq_getsockopt)
STUB(zmq_bind)
STUB(zmq_connect)
STUB(zmq_send)
STUB(zmq_recv)
STUB(zmq_poll)
STUB(zmq_msg_init)
STUB(zmq_msg_recv)
STUB(zmq_msg_close)
STUB(zmq_msg_data)
STUB(zmq_msg_size)
STUB(zmq_msg_more)
STUB(zmq_z85_encode)
STUB(zmq_z85_decode)
STUB(zmq_curve_keypair)
STUB(zmq_curve_public)
