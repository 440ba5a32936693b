// Package native wraps a small C codec used for order snapshots.
package native

/*
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct snapshot {
	const char *sku;
	long qty;
};

// codec_checksum walks a snapshot; it dereferences s without a NULL check.
static long codec_checksum(struct snapshot *s) {
	long sum = s->qty;
	for (const char *p = s->sku; *p; p++) sum = sum * 31 + *p;
	return sum;
}

// codec_compress asserts its preconditions, which aborts the process.
static int codec_compress(const char *in, size_t n, char *out, size_t cap) {
	assert(cap >= n && "output buffer too small");
	memcpy(out, in, n);
	return (int)n;
}
*/
import "C"

import "unsafe"

// Checksum computes the snapshot checksum; a nil snapshot crashes in C.
func Checksum(sku string, qty int64, missing bool) int64 {
	if missing {
		return int64(C.codec_checksum(nil))
	}
	cs := C.CString(sku)
	defer C.free(unsafe.Pointer(cs))
	s := C.struct_snapshot{sku: cs, qty: C.long(qty)}
	return int64(C.codec_checksum(&s))
}

// Compress copies in into a buffer of size cap.
func Compress(in []byte, cap int) []byte {
	out := make([]byte, cap+1)
	n := C.codec_compress((*C.char)(unsafe.Pointer(&in[0])), C.size_t(len(in)), (*C.char)(unsafe.Pointer(&out[0])), C.size_t(cap))
	return out[:n]
}
