/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The append-only key/value log on disk (see kvlog.h): the job table's
 * jobs.log and the journal's spool segments. Every record is checksummed,
 * so whatever a crash leaves half-written, or a failing disk changes, is
 * recognised and skipped, never misread as data.
 *
 * Record format (all integers little-endian, fixed width, no padding):
 *
 *   offset  size  field
 *   0       4     magic 0x314B574A (the bytes "JWK1" on disk)
 *   4       4     key length, 1..JW_KVLOG_KEY_MAX
 *   8       4     value length, 0..JW_KVLOG_VAL_MAX, or 0xFFFFFFFF for a
 *                 deletion (then no value bytes follow)
 *   12      4     CRC32C (Castagnoli: reflected polynomial 0x82F63B78,
 *                 initial value and final xor 0xFFFFFFFF) over bytes 0..11,
 *                 then the key, then the value
 *   16      klen  key bytes (no terminating NUL)
 *   16+klen vlen  value bytes
 *
 * A file is a sequence of records with nothing before, between or after
 * them. A record is good when its magic and lengths are sane, it fits in
 * the file, its key has no NUL and its CRC matches. Where a reader finds
 * no good record, it scans forward for the next magic whose record is
 * good and resumes there: the bytes in between are one damaged stretch,
 * reported to the caller. A damaged length field therefore costs only its
 * own record (the next record's magic is found where it always was), and
 * a false magic inside a value is rejected by the lengths and the CRC (a
 * JSON value cannot even hold the small binary lengths a header needs).
 * Checking a marker costs a bounded amount whatever length it claims
 * (rec_check: a big claim's CRC comes from running checksums), so a
 * stretch packed with plausible headers is read in linear time. A
 * stretch that reaches the end of the file is a damaged tail: what a crash
 * left half-written, or damage in the last records; open cuts it off. The
 * newest good record of a key decides: a value makes the key live, a
 * deletion removes it.
 *
 * Appends are written with pwrite at the end of the last good record, so a
 * failed (partial) append is truncated away before the next one and never
 * strands later records behind a torn one. jw_kvlog_append with val NULL
 * writes a deletion whatever len is; a non-NULL val with len 0 is a live,
 * empty value. A key is a C string, 1..JW_KVLOG_KEY_MAX bytes; an empty key
 * is rejected with EINVAL like an oversize one.
 *
 * One process, one writer: nothing here locks the file against a second
 * process appending to it.
 */
#include "kvlog.h"
#include "fileio.h"
#include "util/htab.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/hash.h"

#define KV_MAGIC 0x314B574Au
#define KV_DELETED 0xFFFFFFFFu
#define KV_HDR 16u

struct jw_kvlog {
	int fd;
	uint64_t size;      /* end of the last good record; appends go here */
	bool must_truncate; /* a failed append may have left bytes past size */
};

/* ---- CRC32C, table-driven (one byte per step) ---- */

/* crc_table[i] is the CRC of the byte i: eight shift-and-xor steps with
 * the reflected polynomial. A constant rather than a table filled on first
 * use, so any thread may call into the log without an initialisation race.
 * tests/unit/test_kvlog.c checks it against a bit-at-a-time CRC32C. */
static const uint32_t crc_table[256] = {
        0x00000000u,
        0xF26B8303u,
        0xE13B70F7u,
        0x1350F3F4u,
        0xC79A971Fu,
        0x35F1141Cu,
        0x26A1E7E8u,
        0xD4CA64EBu,
        0x8AD958CFu,
        0x78B2DBCCu,
        0x6BE22838u,
        0x9989AB3Bu,
        0x4D43CFD0u,
        0xBF284CD3u,
        0xAC78BF27u,
        0x5E133C24u,
        0x105EC76Fu,
        0xE235446Cu,
        0xF165B798u,
        0x030E349Bu,
        0xD7C45070u,
        0x25AFD373u,
        0x36FF2087u,
        0xC494A384u,
        0x9A879FA0u,
        0x68EC1CA3u,
        0x7BBCEF57u,
        0x89D76C54u,
        0x5D1D08BFu,
        0xAF768BBCu,
        0xBC267848u,
        0x4E4DFB4Bu,
        0x20BD8EDEu,
        0xD2D60DDDu,
        0xC186FE29u,
        0x33ED7D2Au,
        0xE72719C1u,
        0x154C9AC2u,
        0x061C6936u,
        0xF477EA35u,
        0xAA64D611u,
        0x580F5512u,
        0x4B5FA6E6u,
        0xB93425E5u,
        0x6DFE410Eu,
        0x9F95C20Du,
        0x8CC531F9u,
        0x7EAEB2FAu,
        0x30E349B1u,
        0xC288CAB2u,
        0xD1D83946u,
        0x23B3BA45u,
        0xF779DEAEu,
        0x05125DADu,
        0x1642AE59u,
        0xE4292D5Au,
        0xBA3A117Eu,
        0x4851927Du,
        0x5B016189u,
        0xA96AE28Au,
        0x7DA08661u,
        0x8FCB0562u,
        0x9C9BF696u,
        0x6EF07595u,
        0x417B1DBCu,
        0xB3109EBFu,
        0xA0406D4Bu,
        0x522BEE48u,
        0x86E18AA3u,
        0x748A09A0u,
        0x67DAFA54u,
        0x95B17957u,
        0xCBA24573u,
        0x39C9C670u,
        0x2A993584u,
        0xD8F2B687u,
        0x0C38D26Cu,
        0xFE53516Fu,
        0xED03A29Bu,
        0x1F682198u,
        0x5125DAD3u,
        0xA34E59D0u,
        0xB01EAA24u,
        0x42752927u,
        0x96BF4DCCu,
        0x64D4CECFu,
        0x77843D3Bu,
        0x85EFBE38u,
        0xDBFC821Cu,
        0x2997011Fu,
        0x3AC7F2EBu,
        0xC8AC71E8u,
        0x1C661503u,
        0xEE0D9600u,
        0xFD5D65F4u,
        0x0F36E6F7u,
        0x61C69362u,
        0x93AD1061u,
        0x80FDE395u,
        0x72966096u,
        0xA65C047Du,
        0x5437877Eu,
        0x4767748Au,
        0xB50CF789u,
        0xEB1FCBADu,
        0x197448AEu,
        0x0A24BB5Au,
        0xF84F3859u,
        0x2C855CB2u,
        0xDEEEDFB1u,
        0xCDBE2C45u,
        0x3FD5AF46u,
        0x7198540Du,
        0x83F3D70Eu,
        0x90A324FAu,
        0x62C8A7F9u,
        0xB602C312u,
        0x44694011u,
        0x5739B3E5u,
        0xA55230E6u,
        0xFB410CC2u,
        0x092A8FC1u,
        0x1A7A7C35u,
        0xE811FF36u,
        0x3CDB9BDDu,
        0xCEB018DEu,
        0xDDE0EB2Au,
        0x2F8B6829u,
        0x82F63B78u,
        0x709DB87Bu,
        0x63CD4B8Fu,
        0x91A6C88Cu,
        0x456CAC67u,
        0xB7072F64u,
        0xA457DC90u,
        0x563C5F93u,
        0x082F63B7u,
        0xFA44E0B4u,
        0xE9141340u,
        0x1B7F9043u,
        0xCFB5F4A8u,
        0x3DDE77ABu,
        0x2E8E845Fu,
        0xDCE5075Cu,
        0x92A8FC17u,
        0x60C37F14u,
        0x73938CE0u,
        0x81F80FE3u,
        0x55326B08u,
        0xA759E80Bu,
        0xB4091BFFu,
        0x466298FCu,
        0x1871A4D8u,
        0xEA1A27DBu,
        0xF94AD42Fu,
        0x0B21572Cu,
        0xDFEB33C7u,
        0x2D80B0C4u,
        0x3ED04330u,
        0xCCBBC033u,
        0xA24BB5A6u,
        0x502036A5u,
        0x4370C551u,
        0xB11B4652u,
        0x65D122B9u,
        0x97BAA1BAu,
        0x84EA524Eu,
        0x7681D14Du,
        0x2892ED69u,
        0xDAF96E6Au,
        0xC9A99D9Eu,
        0x3BC21E9Du,
        0xEF087A76u,
        0x1D63F975u,
        0x0E330A81u,
        0xFC588982u,
        0xB21572C9u,
        0x407EF1CAu,
        0x532E023Eu,
        0xA145813Du,
        0x758FE5D6u,
        0x87E466D5u,
        0x94B49521u,
        0x66DF1622u,
        0x38CC2A06u,
        0xCAA7A905u,
        0xD9F75AF1u,
        0x2B9CD9F2u,
        0xFF56BD19u,
        0x0D3D3E1Au,
        0x1E6DCDEEu,
        0xEC064EEDu,
        0xC38D26C4u,
        0x31E6A5C7u,
        0x22B65633u,
        0xD0DDD530u,
        0x0417B1DBu,
        0xF67C32D8u,
        0xE52CC12Cu,
        0x1747422Fu,
        0x49547E0Bu,
        0xBB3FFD08u,
        0xA86F0EFCu,
        0x5A048DFFu,
        0x8ECEE914u,
        0x7CA56A17u,
        0x6FF599E3u,
        0x9D9E1AE0u,
        0xD3D3E1ABu,
        0x21B862A8u,
        0x32E8915Cu,
        0xC083125Fu,
        0x144976B4u,
        0xE622F5B7u,
        0xF5720643u,
        0x07198540u,
        0x590AB964u,
        0xAB613A67u,
        0xB831C993u,
        0x4A5A4A90u,
        0x9E902E7Bu,
        0x6CFBAD78u,
        0x7FAB5E8Cu,
        0x8DC0DD8Fu,
        0xE330A81Au,
        0x115B2B19u,
        0x020BD8EDu,
        0xF0605BEEu,
        0x24AA3F05u,
        0xD6C1BC06u,
        0xC5914FF2u,
        0x37FACCF1u,
        0x69E9F0D5u,
        0x9B8273D6u,
        0x88D28022u,
        0x7AB90321u,
        0xAE7367CAu,
        0x5C18E4C9u,
        0x4F48173Du,
        0xBD23943Eu,
        0xF36E6F75u,
        0x0105EC76u,
        0x12551F82u,
        0xE03E9C81u,
        0x34F4F86Au,
        0xC69F7B69u,
        0xD5CF889Du,
        0x27A40B9Eu,
        0x79B737BAu,
        0x8BDCB4B9u,
        0x988C474Du,
        0x6AE7C44Eu,
        0xBE2DA0A5u,
        0x4C4623A6u,
        0x5F16D052u,
        0xAD7D5351u,
};

/* Bytes checksummed so far: the reader's cost, counted rather than timed. */
static _Atomic uint64_t checksummed;

/* Continues a CRC: start with crc = 0; the pre/post inversion is inside. */
static uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	atomic_fetch_add_explicit(&checksummed, len, memory_order_relaxed);
	crc = ~crc;
	while(len--) {
		crc = crc_table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
	}
	return ~crc;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v & 0xFFu);
	p[1] = (unsigned char)((v >> 8) & 0xFFu);
	p[2] = (unsigned char)((v >> 16) & 0xFFu);
	p[3] = (unsigned char)((v >> 24) & 0xFFu);
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- errors ---- */

static void set_err(char *err, size_t errlen, const char *what, const char *path, int errnum)
{
	char msg[128];

	/* Callers that only look at errno (the writer thread) get the same
	 * error as the text. */
	errno = errnum;
	if(!err || errlen == 0) {
		return;
	}
	/* strerror_r, not strerror: the writer thread calls us while the
	 * broker thread may be formatting its own errors. */
	if(strerror_r(errnum, msg, sizeof(msg)) != 0) {
		snprintf(msg, sizeof(msg), "error %d", errnum);
	}
	snprintf(err, errlen, "%s %s: %s", what, path, msg);
	errno = errnum;
}

/* ---- low-level I/O: every call survives EINTR and short transfers ---- */

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;

	while(len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if(n < 0) {
			if(errno == EINTR) {
				continue;
			}
			return -1;
		}
		if(n == 0) {
			/* POSIX allows 0 only for len 0; do not spin on it. */
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int ftruncate_retry(int fd, uint64_t len)
{
	int rc;

	do {
		rc = ftruncate(fd, (off_t)len);
	} while(rc != 0 && errno == EINTR);
	return rc;
}

static int fsync_retry(int fd, bool data_only)
{
	int rc;

	do {
		rc = data_only ? fdatasync(fd) : fsync(fd);
	} while(rc != 0 && errno == EINTR);
	return rc;
}

static int open_retry(const char *path, int flags, mode_t mode)
{
	int fd;

	do {
		fd = open(path, flags | O_CLOEXEC, mode);
	} while(fd < 0 && errno == EINTR);
	return fd;
}

uint32_t jw_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return crc32c(crc, buf, len);
}

uint64_t jw_kvlog_checksummed(void)
{
	return atomic_load_explicit(&checksummed, memory_order_relaxed);
}

/* ---- reading: a window over a file or a buffer ---- */

#define WIN_CHUNK 65536u

/*
 * The readers see the bytes through a window: over a buffer it is the
 * buffer itself; over a file it is a read buffer that slides forward and
 * grows to hold the largest record met, so a record is always checked
 * from one contiguous block of memory.
 */
struct win {
	int fd;                   /* -1: reading mem */
	const unsigned char *mem; /* the buffer (fd -1) */
	unsigned char *buf;       /* file bytes [at, at + len) */
	size_t cap, len;
	uint64_t at;
	uint64_t end;  /* reading stops here (a limit or the end) */
	uint64_t size; /* the end of the file or buffer */
	int err;       /* errno of a failed read or allocation */
};

static void win_init_mem(struct win *w, const void *buf, size_t len)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->mem = buf;
	w->end = w->size = len;
}

static void win_cleanup(struct win *w)
{
	free(w->buf);
	w->buf = NULL;
}

/* The n bytes at off, or NULL when they run past the end (or a read
 * failed: w->err). A file found shorter than expected (it shrank) moves
 * the end back to where it really is. */
static const unsigned char *win_at(struct win *w, uint64_t off, size_t n)
{
	size_t want, keep = 0;
	ssize_t got;

	if(off > w->end || n > w->end - off) {
		return NULL;
	}
	if(w->fd < 0) {
		return w->mem + off;
	}
	if(off >= w->at && off - w->at <= w->len && n <= w->len - (size_t)(off - w->at)) {
		return w->buf + (off - w->at);
	}
	want = n > WIN_CHUNK ? n : WIN_CHUNK;
	if(want > w->end - off) {
		want = (size_t)(w->end - off);
	}
	if(want > w->cap) {
		unsigned char *grown = realloc(w->buf, want);

		if(!grown) {
			w->err = ENOMEM;
			return NULL;
		}
		w->buf = grown;
		w->cap = want;
	}
	/* Sliding forward: keep what the buffer already holds from off on. */
	if(off >= w->at && off - w->at < w->len) {
		keep = w->len - (size_t)(off - w->at);
		memmove(w->buf, w->buf + (off - w->at), keep);
	}
	got = jw_pread_full(w->fd, w->buf + keep, want - keep, off + keep);
	if(got < 0) {
		w->err = errno;
		w->len = 0;
		return NULL;
	}
	w->at = off;
	w->len = keep + (size_t)got;
	if(w->len < want) {
		w->end = w->size = off + w->len;
	}
	return w->len >= n ? w->buf : NULL;
}

/* At least min bytes at off (fewer only at the end), and *avail: how
 * many the window holds from off. Unlike win_at, it does not slide while
 * the window still holds min bytes from off, so a scan that moves forward
 * a little at a time does not move the window each time. */
static const unsigned char *win_peek(struct win *w, uint64_t off, size_t min, size_t *avail)
{
	const unsigned char *p;
	size_t n;

	if(off >= w->end) {
		return NULL;
	}
	if(w->fd < 0) {
		*avail = (size_t)(w->end - off);
		return w->mem + off;
	}
	if(off >= w->at && off - w->at < w->len) {
		n = w->len - (size_t)(off - w->at);
		if(n > w->end - off) {
			n = (size_t)(w->end - off);
		}
		if(n >= min || n == w->end - off) {
			*avail = n;
			return w->buf + (off - w->at);
		}
	}
	n = w->end - off > WIN_CHUNK ? WIN_CHUNK : (size_t)(w->end - off);
	p = win_at(w, off, n);
	if(!p) {
		return NULL;
	}
	*avail = n;
	return p;
}

/* A good record found in the window. */
struct rec {
	uint32_t klen;
	uint32_t vlen;          /* KV_DELETED for a deletion */
	size_t size;            /* header, key and value */
	const unsigned char *p; /* the record, valid until the window moves */
};

/* Whether a good record starts at off: 1 (r filled), 0, or -1 (w->err). */
static int rec_at(struct win *w, uint64_t off, struct rec *r)
{
	const unsigned char *p = win_at(w, off, KV_HDR);
	uint32_t klen, vlen, body, crc;

	if(!p) {
		return w->err ? -1 : 0;
	}
	klen = get_le32(p + 4);
	vlen = get_le32(p + 8);
	/* Lengths are checked before anything is read for them, so a damaged
	 * length field costs nothing but this record. */
	if(get_le32(p) != KV_MAGIC || klen == 0 || klen > JW_KVLOG_KEY_MAX ||
	        (vlen != KV_DELETED && vlen > JW_KVLOG_VAL_MAX)) {
		return 0;
	}
	body = vlen == KV_DELETED ? 0 : vlen;
	p = win_at(w, off, (size_t)KV_HDR + klen + body);
	if(!p) {
		return w->err ? -1 : 0;
	}
	crc = crc32c(0, p, 12); /* the CRC field itself is not covered */
	crc = crc32c(crc, p + KV_HDR, (size_t)klen + body);
	if(crc != get_le32(p + 12) || memchr(p + KV_HDR, '\0', klen)) {
		return 0; /* appends never write a NUL in a key: not our record */
	}
	r->klen = klen;
	r->vlen = vlen;
	r->size = (size_t)KV_HDR + klen + body;
	r->p = p;
	return 1;
}

/* Whether the 4 bytes at p are the magic, as written by put_le32. */
static bool is_magic(const unsigned char *p)
{
	return get_le32(p) == KV_MAGIC;
}

/* ---- checking a claimed record without checksumming it again ---- */

/*
 * A marker with plausible lengths claims a record of up to 16 MiB, and
 * checking a claim by checksumming the bytes it covers costs its length.
 * A stretch packed with such headers (every 12 bytes, each claiming most
 * of what follows) would cost the sum of the claims: quadratic in the
 * stretch. So a claim of more than IX_DIRECT bytes of key and value is
 * checked from running checksums instead: the CRC32C of the bytes from a
 * base up to every IX_STEP-th byte ("prefixes"), each byte checksummed
 * once however many claims cover it. The CRC of any range then follows
 * from two prefixes (CRC combination, as zlib's crc32_combine does it:
 * crc(A B) = crc(A) x^(8|B|) + crc(B), modulo the polynomial in
 * GF(2)), so a claim costs two prefix lookups (under IX_STEP bytes of
 * checksum each) and one multiplication by x^(8n). A read of n bytes thus
 * checksums at most about n * (1 + IX_DIRECT / 12) bytes plus the largest
 * record, whatever its headers claim.
 */
#define IX_DIRECT 1024u
#define IX_STEP 64u
#define IX_CHUNK 65536u /* bytes checksummed per read; a multiple of IX_STEP */

/* x^(2^k) modulo the CRC32C polynomial, reflected, k = 0..30:
 * x2n[0] = x, x2n[k] = x2n[k-1]^2. Squaring x2n[30] gives x again, so
 * x^(2^k) is x2n[k % 31] for every k (zlib's CRC-32 polynomial has period
 * 32 instead; this one does not). */
static const uint32_t x2n[31] = {
        0x40000000u,
        0x20000000u,
        0x08000000u,
        0x00800000u,
        0x00008000u,
        0x82F63B78u,
        0x6EA2D55Cu,
        0x18B8EA18u,
        0x510AC59Au,
        0xB82BE955u,
        0xB8FDB1E7u,
        0x88E56F72u,
        0x74C360A4u,
        0xE4172B16u,
        0x0D65762Au,
        0x35D73A62u,
        0x28461564u,
        0xBF455269u,
        0xE2EA32DCu,
        0xFE7740E6u,
        0xF946610Bu,
        0x3C204F8Fu,
        0x538586E3u,
        0x59726915u,
        0x734D5309u,
        0xBC1AC763u,
        0x7D0722CCu,
        0xD289CABEu,
        0xE94CA9BCu,
        0x05B74F3Fu,
        0xA51E1F42u,
};

/* a * b modulo the polynomial (reflected); a must not be 0. */
static uint32_t mulmodp(uint32_t a, uint32_t b)
{
	uint32_t m = (uint32_t)1 << 31, p = 0;

	for(;;) {
		if(a & m) {
			p ^= b;
			if((a & (m - 1)) == 0) {
				break;
			}
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ 0x82F63B78u : b >> 1;
	}
	return p;
}

/* x^(8n) modulo the polynomial: what shifting a CRC past n bytes of zeros
 * multiplies it by. */
static uint32_t x8n(uint64_t n)
{
	uint32_t p = (uint32_t)1 << 31; /* 1 */
	unsigned k = 3;

	while(n) {
		if(n & 1) {
			p = mulmodp(x2n[k % 31], p);
		}
		n >>= 1;
		k++;
	}
	return p;
}

/* The prefixes of one walk. */
struct crcix {
	uint64_t base;
	uint64_t k0; /* ck[i] is the CRC of [base, base + (k0 + i) * IX_STEP) */
	uint32_t *ck;
	size_t n, cap;      /* n == 0: none yet */
	unsigned char *buf; /* file bytes being checksummed */
};

static void ix_cleanup(struct crcix *ix)
{
	free(ix->ck);
	free(ix->buf);
}

/* The n bytes at off (n <= IX_CHUNK), from the buffer or read from the
 * file outside the window, or NULL: a read failed (w->err), or they are
 * not all there (the file shrank: w->end moves back, as in win_at). */
static const unsigned char *ix_bytes(struct crcix *ix, struct win *w, uint64_t off, size_t n)
{
	ssize_t got;

	if(off > w->end || n > w->end - off) {
		return NULL;
	}
	if(w->fd < 0) {
		return w->mem + off;
	}
	if(!ix->buf && (ix->buf = malloc(IX_CHUNK)) == NULL) {
		w->err = ENOMEM;
		return NULL;
	}
	got = jw_pread_full(w->fd, ix->buf, n, off);
	if(got < 0) {
		w->err = errno;
		return NULL;
	}
	if((size_t)got < n) {
		w->end = w->size = off + (uint64_t)got;
		return NULL;
	}
	return ix->buf;
}

/* Room for one more prefix. Returns 0 or -1 (w->err). */
static int ix_room(struct crcix *ix, struct win *w)
{
	uint32_t *grown;
	size_t cap;

	if(ix->n < ix->cap) {
		return 0;
	}
	cap = ix->cap ? ix->cap * 2 : 1024;
	grown = realloc(ix->ck, cap * sizeof(*grown));
	if(!grown) {
		w->err = ENOMEM;
		return -1;
	}
	ix->ck = grown;
	ix->cap = cap;
	return 0;
}

/*
 * Makes the prefixes ready for ranges from a on (a only grows from one
 * call to the next): starts them over at a when they do not reach it,
 * else forgets those before a. Returns 0 or -1 (w->err).
 */
static int ix_from(struct crcix *ix, struct win *w, uint64_t a)
{
	uint64_t k;

	if(ix->n == 0 || ix->base + (ix->k0 + ix->n - 1) * IX_STEP < a) {
		if(ix_room(ix, w) != 0) {
			return -1;
		}
		ix->base = a;
		ix->k0 = 0;
		ix->ck[0] = 0; /* the CRC of nothing */
		ix->n = 1;
		return 0;
	}
	k = (a - ix->base) / IX_STEP;
	/* Dropped in bulk, so each prefix is moved at most once. */
	if(k > ix->k0 && k - ix->k0 >= ix->n / 2) {
		size_t drop = (size_t)(k - ix->k0);

		memmove(ix->ck, ix->ck + drop, (ix->n - drop) * sizeof(*ix->ck));
		ix->n -= drop;
		ix->k0 = k;
	}
	return 0;
}

/* The CRC of [base, x) (x past what ix_from was given last) into *crc.
 * Returns 1 (done), 0 (the bytes are not all there) or -1 (w->err). */
static int ix_prefix(struct crcix *ix, struct win *w, uint64_t x, uint32_t *crc)
{
	uint64_t k = (x - ix->base) / IX_STEP;
	size_t tail = (size_t)(x - ix->base - k * IX_STEP);
	const unsigned char *p;

	while(ix->k0 + ix->n - 1 < k) {
		uint64_t last = ix->k0 + ix->n - 1, steps = k - last;
		uint32_t c = ix->ck[ix->n - 1];

		if(steps > IX_CHUNK / IX_STEP) {
			steps = IX_CHUNK / IX_STEP;
		}
		p = ix_bytes(ix, w, ix->base + last * IX_STEP, (size_t)(steps * IX_STEP));
		if(!p) {
			return w->err ? -1 : 0;
		}
		for(uint64_t i = 0; i < steps; i++) {
			if(ix_room(ix, w) != 0) {
				return -1;
			}
			c = crc32c(c, p + i * IX_STEP, IX_STEP);
			ix->ck[ix->n++] = c;
		}
	}
	*crc = ix->ck[k - ix->k0];
	if(tail) {
		p = ix_bytes(ix, w, x - tail, tail);
		if(!p) {
			return w->err ? -1 : 0;
		}
		*crc = crc32c(*crc, p, tail);
	}
	return 1;
}

/*
 * rec_at, with the CRC of a big claim taken from the prefixes: whether a
 * good record starts at off. 1 (r filled), 0, or -1 (w->err). Offsets
 * given to one ix only grow.
 */
static int rec_check(struct win *w, struct crcix *ix, uint64_t off, struct rec *r)
{
	const unsigned char *p = win_at(w, off, KV_HDR);
	uint32_t klen, vlen, body, pa, pe, crc;
	uint64_t a, e;
	int rc;

	if(!p) {
		return w->err ? -1 : 0;
	}
	klen = get_le32(p + 4);
	vlen = get_le32(p + 8);
	if(get_le32(p) != KV_MAGIC || klen == 0 || klen > JW_KVLOG_KEY_MAX ||
	        (vlen != KV_DELETED && vlen > JW_KVLOG_VAL_MAX)) {
		return 0;
	}
	body = vlen == KV_DELETED ? 0 : vlen;
	if((uint64_t)klen + body <= IX_DIRECT) {
		return rec_at(w, off, r);
	}
	/* Never past the end: a claim that does not fit is no record. */
	a = off + KV_HDR;
	e = a + klen + body;
	if(e > w->end) {
		return 0;
	}
	p = win_at(w, off, (size_t)KV_HDR + klen);
	if(!p) {
		return w->err ? -1 : 0;
	}
	if(memchr(p + KV_HDR, '\0', klen)) {
		return 0;
	}
	crc = crc32c(0, p, 12);
	if(ix_from(ix, w, a) != 0) {
		return -1;
	}
	if((rc = ix_prefix(ix, w, a, &pa)) != 1 || (rc = ix_prefix(ix, w, e, &pe)) != 1) {
		return rc;
	}
	/* crc(header key value) from crc(header), crc([base, a)) and
	 * crc([base, e)): both shifts are past the key and value. */
	if((mulmodp(x8n(e - a), crc ^ pa) ^ pe) != get_le32(p + 12)) {
		return 0;
	}
	p = win_at(w, off, (size_t)(e - off));
	if(!p) {
		return w->err ? -1 : 0;
	}
	r->klen = klen;
	r->vlen = vlen;
	r->size = (size_t)(e - off);
	r->p = p;
	return 1;
}

/*
 * After finding no good record at off: the start of the next good record
 * (the first marker past off whose record verifies), or w->end when there
 * is none. *marks counts the markers in between, off's own included.
 * Returns 0 or -1 (w->err).
 */
static int resync(struct win *w, struct crcix *ix, uint64_t off, uint64_t *next, uint64_t *marks)
{
	const unsigned char *p = win_at(w, off, 4);
	uint64_t pos = off + 1;

	*marks = 0;
	if(p && is_magic(p)) {
		(*marks)++;
	} else if(!p && w->err) {
		return -1;
	}
	/* A record needs at least a header; nothing shorter can follow. */
	while(pos < w->end && w->end - pos >= KV_HDR) {
		size_t n = 0;
		const unsigned char *c = win_peek(w, pos, KV_HDR, &n), *hit = NULL;
		size_t i;

		if(!c) {
			if(w->err) {
				return -1;
			}
			continue; /* the file shrank: w->end moved back */
		}
		if(n < 4) {
			break;
		}
		for(i = 0; i + 4 <= n; i++) {
			const unsigned char *q = memchr(c + i, 'J', n - 3 - i);

			if(!q) {
				break;
			}
			i = (size_t)(q - c);
			if(is_magic(q)) {
				hit = q;
				break;
			}
		}
		if(!hit) {
			/* A marker may straddle the end of what was looked at: look
			 * again there. */
			pos += n - 3;
			continue;
		}
		{
			uint64_t cand = pos + (uint64_t)(hit - c);
			struct rec r;
			int rc;

			rc = rec_check(w, ix, cand, &r);
			if(rc < 0) {
				return -1;
			}
			if(rc > 0) {
				*next = cand;
				return 0;
			}
			(*marks)++;
			pos = cand + 1;
		}
	}
	*next = w->end;
	return 0;
}

/* What walk() hands each good record to. */
typedef int walk_rec_fn(struct win *w, const struct rec *r, uint64_t off, void *arg);

/*
 * Reads w from off to w->end: on_rec for each good record, on_damage for
 * each stretch in between that is not one (with resynchronisation at the
 * next good record). *pos follows: past the last record or stretch
 * handled. Returns 0, -1 (w->err), or a callback's non-zero value.
 */
static int walk(struct win *w, uint64_t off, walk_rec_fn *on_rec, jw_kvlog_damage_fn *on_damage,
        void *arg, uint64_t *pos)
{
	struct crcix ix;
	int rc = 0;

	memset(&ix, 0, sizeof(ix));
	*pos = off;
	while(off < w->end) {
		struct jw_kvlog_damage d;
		struct rec r;
		uint64_t next, marks;

		rc = rec_check(w, &ix, off, &r);
		if(rc < 0) {
			goto out;
		}
		if(rc > 0) {
			off += r.size;
			*pos = off;
			if(on_rec && (rc = on_rec(w, &r, off - r.size, arg)) != 0) {
				goto out;
			}
			continue;
		}
		if(resync(w, &ix, off, &next, &marks) != 0) {
			rc = -1;
			goto out;
		}
		d.offset = off;
		d.length = next - off;
		d.records = marks ? marks : 1;
		d.tail = next >= w->size;
		off = next;
		*pos = off;
		if(on_damage && (rc = on_damage(&d, arg)) != 0) {
			goto out;
		}
	}
	rc = 0;
out:
	ix_cleanup(&ix);
	return rc;
}

/* Opens path for reading and sets w up over it: refuses anything but a
 * regular file (a FIFO would block, a directory cannot be read). Returns
 * 0, or -1 with errno (ENOENT for a missing file, EINVAL for not a regular
 * file). */
static int win_open(struct win *w, const char *path)
{
	struct stat st;
	int fd;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	fd = open_retry(path, O_RDONLY | O_NONBLOCK, 0);
	if(fd < 0) {
		return -1;
	}
	if(fstat(fd, &st) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if(!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	w->fd = fd;
	w->end = w->size = (uint64_t)st.st_size;
	return 0;
}

static void win_close(struct win *w)
{
	if(w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	win_cleanup(w);
}

/* Path errors in the words the log shows. */
static void set_read_err(char *err, size_t errlen, const char *path, int errnum)
{
	if(errnum == EINVAL) {
		if(err && errlen) {
			snprintf(err, errlen, "read %s: not a regular file", path);
		}
		errno = EINVAL;
		return;
	}
	set_err(err, errlen, "read", path, errnum);
}

/* ---- key -> newest record map used by replay and compaction ---- */

struct kv_entry {
	uint64_t val_off;
	uint32_t vlen;
	char key[];
};

/* Lives only during start-up and compaction (in memory): the newest
 * record of each live key, in util/htab.h's table (entries owned here). */
struct kv_map {
	struct jw_htab t; /* unset (no slots) until the first record */
	size_t count;
};

static void map_free(struct kv_map *m)
{
	size_t pos = 0;
	struct kv_entry *e;

	while((e = jw_htab_each(&m->t, &pos)) != NULL) {
		free(e);
	}
	jw_htab_cleanup(&m->t);
	m->count = 0;
}

/* walk() callback building the map: 0, or -1 when out of memory. */
static int map_record_cb(struct win *w, const struct rec *r, uint64_t off, void *arg)
{
	struct kv_map *m = arg;
	const char *key = (const char *)r->p + KV_HDR;
	uint64_t h = jw_hash(key, r->klen, 0);
	struct kv_entry *e;
	size_t pos;

	(void)w;
	if(!m->t.slots && jw_htab_init(&m->t, 256, NULL) != 0) {
		return -1;
	}
	for(e = jw_htab_first(&m->t, h, &pos); e; e = jw_htab_next(&m->t, h, &pos)) {
		if(strncmp(e->key, key, r->klen) == 0 && e->key[r->klen] == '\0') {
			break;
		}
	}
	if(r->vlen == KV_DELETED) {
		/* Drop the entry: memory stays proportional to live keys. */
		if(e) {
			jw_htab_remove_at(&m->t, pos);
			free(e);
			m->count--;
		}
		return 0;
	}
	if(!e) {
		/* Out of memory to grow, a table with room takes longer probes. */
		if(jw_htab_reserve(&m->t, m->t.count + 1) != 0 && !jw_htab_has_room(&m->t)) {
			return -1;
		}
		e = malloc(sizeof(*e) + r->klen + 1);
		if(!e) {
			return -1;
		}
		memcpy(e->key, key, r->klen);
		e->key[r->klen] = '\0';
		jw_htab_insert(&m->t, h, e);
		m->count++;
	}
	e->val_off = off + KV_HDR + r->klen;
	e->vlen = r->vlen;
	return 0;
}

static int cmp_entry_off(const void *a, const void *b)
{
	const struct kv_entry *x = *(struct kv_entry *const *)a;
	const struct kv_entry *y = *(struct kv_entry *const *)b;

	return (x->val_off > y->val_off) - (x->val_off < y->val_off);
}

/* The map's entries ordered by file position (the order of their newest
 * writes), so values are read back sequentially and compaction keeps the
 * log's order. Returns a malloc'd array (NULL with count 0 is fine) or
 * NULL on out of memory. */
static struct kv_entry **map_sorted(const struct kv_map *m, bool *oom)
{
	struct kv_entry **v;
	size_t n = 0;

	*oom = false;
	if(m->count == 0) {
		return NULL;
	}
	v = malloc(m->count * sizeof(*v));
	if(!v) {
		*oom = true;
		return NULL;
	}
	{
		size_t pos = 0;
		struct kv_entry *e;

		while((e = jw_htab_each(&m->t, &pos)) != NULL) {
			v[n++] = e;
		}
	}
	qsort(v, n, sizeof(*v), cmp_entry_off);
	return v;
}

/* Counts for the replay statistics, kept while walking. */
struct scan {
	struct kv_map *map; /* NULL: records are only counted */
	jw_kvlog_damage_fn *on_damage;
	void *arg;
	uint64_t records, bytes, good_end;
	uint64_t damaged, damaged_bytes, damaged_records;
	uint64_t tail_at; /* UINT64_MAX: no damaged tail */
	bool oom;
};

static int scan_record_cb(struct win *w, const struct rec *r, uint64_t off, void *arg)
{
	struct scan *s = arg;

	s->records++;
	s->bytes += r->size;
	s->good_end = off + r->size;
	if(s->map && map_record_cb(w, r, off, s->map) != 0) {
		s->oom = true;
		return -1;
	}
	return 0;
}

static int scan_damage_cb(const struct jw_kvlog_damage *d, void *arg)
{
	struct scan *s = arg;

	s->damaged++;
	s->damaged_bytes += d->length;
	s->damaged_records += d->records;
	if(d->tail) {
		s->tail_at = d->offset;
	}
	return s->on_damage ? s->on_damage(d, s->arg) : 0;
}

/* Walks the whole window into s. Returns 0, -1 (read error: w->err, or
 * out of memory: s->oom), or on_damage's value. */
static int scan_all(struct win *w, struct scan *s)
{
	uint64_t pos;

	s->tail_at = UINT64_MAX;
	return walk(w, 0, scan_record_cb, scan_damage_cb, s, &pos);
}

static void fill_stats(struct jw_kvlog_replay_stats *st, const struct scan *s, uint64_t live)
{
	if(!st) {
		return;
	}
	st->records = s->records;
	st->live = live;
	st->bytes = s->bytes;
	st->torn_at = s->tail_at;
	st->damaged = s->damaged;
	st->damaged_bytes = s->damaged_bytes;
	st->damaged_records = s->damaged_records;
}

/* ---- public API ---- */

int jw_kvlog_open(const char *path, struct jw_kvlog **out, jw_kvlog_damage_fn *on_damage, void *arg,
        char *err, size_t errlen)
{
	struct jw_kvlog *l = NULL;
	struct scan s;
	struct win w;
	struct stat st;
	int fd = -1, rc = -1, r;

	*out = NULL;
	memset(&w, 0, sizeof(w));
	memset(&s, 0, sizeof(s));
	fd = open_retry(path, O_RDWR | O_CREAT | O_NONBLOCK, 0600);
	if(fd < 0) {
		set_err(err, errlen, "open", path, errno);
		goto out;
	}
	if(fstat(fd, &st) != 0) {
		set_err(err, errlen, "stat", path, errno);
		goto out;
	}
	if(!S_ISREG(st.st_mode)) {
		if(err && errlen) {
			snprintf(err, errlen, "open %s: not a regular file", path);
		}
		errno = EINVAL;
		goto out;
	}
	w.fd = fd;
	w.end = w.size = (uint64_t)st.st_size;
	s.on_damage = on_damage;
	s.arg = arg;
	r = scan_all(&w, &s);
	if(r != 0) {
		if(r == -1 && w.err) {
			set_err(err, errlen, "read", path, w.err);
		} else if(err && errlen) {
			snprintf(err, errlen, "open %s: stopped at damage", path);
		}
		goto out;
	}
	/* Cut a damaged tail (what a crash left half-written), so the next
	 * append starts on a record boundary that readers will reach. */
	if(s.good_end < w.size && ftruncate_retry(fd, s.good_end) != 0) {
		set_err(err, errlen, "truncate", path, errno);
		goto out;
	}
	l = malloc(sizeof(*l));
	if(!l) {
		set_err(err, errlen, "open", path, ENOMEM);
		goto out;
	}
	l->fd = fd;
	l->size = s.good_end;
	l->must_truncate = false;
	*out = l;
	fd = -1;
	rc = 0;
out:
	win_cleanup(&w);
	if(fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return rc;
}

int jw_kvlog_append(struct jw_kvlog *l, const char *key, const void *val, size_t len)
{
	/* Header, key and a small value go out in one write; a bigger value is
	 * a second write from the caller's buffer (no 16 MiB copy). */
	unsigned char buf[4096];
	size_t klen, body, first;
	uint32_t crc;

	if(!l || !key) {
		errno = EINVAL;
		return -1;
	}
	klen = strlen(key);
	if(klen == 0 || klen > JW_KVLOG_KEY_MAX || (val && len > JW_KVLOG_VAL_MAX)) {
		errno = EINVAL;
		return -1;
	}
	body = val ? len : 0;
	if(l->must_truncate) {
		if(ftruncate_retry(l->fd, l->size) != 0) {
			return -1;
		}
		l->must_truncate = false;
	}
	put_le32(buf, KV_MAGIC);
	put_le32(buf + 4, (uint32_t)klen);
	put_le32(buf + 8, val ? (uint32_t)len : KV_DELETED);
	crc = crc32c(0, buf, 12);
	crc = crc32c(crc, key, klen);
	if(body) {
		crc = crc32c(crc, val, body);
	}
	put_le32(buf + 12, crc);
	memcpy(buf + KV_HDR, key, klen);
	first = KV_HDR + klen;
	if(body && body <= sizeof(buf) - first) {
		memcpy(buf + first, val, body);
		first += body;
		body = 0;
	}
	if(pwrite_all(l->fd, buf, first, l->size) != 0 ||
	        (body && pwrite_all(l->fd, val, body, l->size + first) != 0)) {
		int saved = errno;

		/* Take the partial record back now; if even that fails, retry it
		 * before the next append writes anything. */
		if(ftruncate_retry(l->fd, l->size) != 0) {
			l->must_truncate = true;
		}
		errno = saved;
		return -1;
	}
	l->size += first + body;
	return 0;
}

int jw_kvlog_sync(struct jw_kvlog *l)
{
	if(!l) {
		errno = EINVAL;
		return -1;
	}
	return fsync_retry(l->fd, true);
}

uint64_t jw_kvlog_size(const struct jw_kvlog *l)
{
	return l ? l->size : 0;
}

void jw_kvlog_close(struct jw_kvlog *l)
{
	if(!l) {
		return;
	}
	close(l->fd);
	free(l);
}

static const unsigned char empty_value[1];

/* Replay over an opened window: builds the map, then hands out the newest
 * value of every live key in file order. */
static int replay_win(struct win *w,
        int (*fn)(const char *key, const void *val, size_t len, void *arg),
        jw_kvlog_damage_fn *on_damage, void *arg, struct jw_kvlog_replay_stats *st, bool *oom)
{
	struct kv_map m = {0};
	struct scan s;
	struct kv_entry **v = NULL;
	int rc;

	*oom = false;
	memset(&s, 0, sizeof(s));
	s.map = &m;
	s.on_damage = on_damage;
	s.arg = arg;
	rc = scan_all(w, &s);
	if(rc != 0) {
		*oom = s.oom;
		goto out;
	}
	fill_stats(st, &s, m.count);
	v = map_sorted(&m, oom);
	if(*oom) {
		rc = -1;
		goto out;
	}
	for(size_t i = 0; i < m.count; i++) {
		struct kv_entry *e = v[i];
		const void *val = empty_value;

		if(e->vlen > 0) {
			/* The CRC was checked by the scan; values are read back in
			 * file order, so the window only slides forward. */
			val = win_at(w, e->val_off, e->vlen);
			if(!val) {
				if(!w->err) {
					w->err = EIO; /* the file shrank under us */
				}
				*oom = w->err == ENOMEM;
				rc = -1;
				goto out;
			}
		}
		rc = fn(e->key, val, e->vlen, arg);
		if(rc != 0) {
			goto out;
		}
	}
out:
	free(v);
	map_free(&m);
	return rc;
}

int jw_kvlog_replay(const char *path,
        int (*fn)(const char *key, const void *val, size_t len, void *arg),
        jw_kvlog_damage_fn *on_damage, void *arg, struct jw_kvlog_replay_stats *st, char *err,
        size_t errlen)
{
	struct win w;
	bool oom;
	int rc;

	if(st) {
		memset(st, 0, sizeof(*st));
		st->torn_at = UINT64_MAX;
	}
	if(win_open(&w, path) != 0) {
		if(errno == ENOENT) {
			return 0;
		}
		set_read_err(err, errlen, path, errno);
		return -1;
	}
	rc = replay_win(&w, fn, on_damage, arg, st, &oom);
	if(rc == -1 && (oom || w.err)) {
		if(oom) {
			set_err(err, errlen, "replay (out of memory)", path, ENOMEM);
		} else {
			set_err(err, errlen, "read", path, w.err ? w.err : EIO);
		}
	}
	{
		int saved = errno; /* for the caller: cleanup must not change it */
		win_close(&w);
		errno = saved;
	}
	return rc;
}

int jw_kvlog_replay_buf(const void *buf, size_t len,
        int (*fn)(const char *key, const void *val, size_t len, void *arg),
        jw_kvlog_damage_fn *on_damage, void *arg, struct jw_kvlog_replay_stats *st)
{
	struct win w;
	bool oom;
	int rc;

	if(st) {
		memset(st, 0, sizeof(*st));
		st->torn_at = UINT64_MAX;
	}
	win_init_mem(&w, buf, len);
	rc = replay_win(&w, fn, on_damage, arg, st, &oom);
	if(rc == -1) {
		errno = ENOMEM;
	}
	return rc;
}

/* Directory part of path ("." for a bare name), malloc'd. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n;
	char *d;

	if(!slash) {
		return strdup(".");
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	d = malloc(n + 1);
	if(d) {
		memcpy(d, path, n);
		d[n] = '\0';
	}
	return d;
}

/*
 * st describes the file before compaction (records read, live keys kept,
 * bytes of good records, damage). Damaged stretches are dropped by the
 * rewrite. One failure happens after the rename: if the directory cannot
 * be synced, path already holds the new file (same live data as the old
 * one) and -1 still reports that the switch is not yet durable.
 */
/*
 * Writes the n live records v (their values read through w) to tmp, made
 * durable. Returns 0, or -1 with err set and tmp removed.
 */
static int write_compacted(struct win *w, struct kv_entry **v, size_t n, const char *path,
        const char *tmp, char *err, size_t errlen)
{
	struct jw_kvlog out_log = {.fd = -1, .size = 0, .must_truncate = false};
	int saved;

	/* O_TRUNC: a tmp file left by a crash during an earlier compaction is
	 * garbage by definition (the rename never happened). */
	out_log.fd = open_retry(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if(out_log.fd < 0) {
		set_err(err, errlen, "create", tmp, errno);
		return -1;
	}
	for(size_t i = 0; i < n; i++) {
		struct kv_entry *e = v[i];
		const void *val = empty_value;

		if(e->vlen > 0) {
			val = win_at(w, e->val_off, e->vlen);
			if(!val) {
				set_err(err, errlen, "read", path, w->err ? w->err : EIO);
				goto fail;
			}
		}
		if(jw_kvlog_append(&out_log, e->key, val, e->vlen) != 0) {
			set_err(err, errlen, "write", tmp, errno);
			goto fail;
		}
	}
	/* The data must be durable before the rename makes it the log, or a
	 * power cut could leave an empty file under the real name. */
	if(fsync_retry(out_log.fd, false) != 0) {
		set_err(err, errlen, "fsync", tmp, errno);
		goto fail;
	}
	if(close(out_log.fd) != 0 && errno != EINTR) {
		out_log.fd = -1;
		set_err(err, errlen, "close", tmp, errno);
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if(out_log.fd >= 0) {
		close(out_log.fd);
	}
	unlink(tmp);
	errno = saved;
	return -1;
}

/*
 * Reads the whole log at path (a missing one as empty) into m through w,
 * reporting damage to on_damage. Returns 0, a callback's nonzero, or -1
 * with err set.
 */
static int scan_for_compact(
        const char *path, struct win *w, struct scan *s, char *err, size_t errlen)
{
	int r;

	if(win_open(w, path) != 0) {
		if(errno != ENOENT) {
			set_read_err(err, errlen, path, errno);
			return -1;
		}
		win_init_mem(w, empty_value, 0); /* a missing log compacts to an empty one */
	}
	r = scan_all(w, s);
	if(r == 0) {
		return 0;
	}
	if(r != -1 || (!s->oom && !w->err)) {
		if(err && errlen) {
			snprintf(err, errlen, "compact %s: stopped at damage", path);
		}
		return r;
	}
	if(s->oom) {
		set_err(err, errlen, "compact (out of memory)", path, ENOMEM);
	} else {
		set_err(err, errlen, "read", path, w->err ? w->err : EIO);
	}
	return -1;
}

int jw_kvlog_compact(const char *path, jw_kvlog_damage_fn *on_damage, void *arg,
        struct jw_kvlog_replay_stats *st, char *err, size_t errlen)
{
	struct kv_map m = {0};
	struct scan s;
	struct win w;
	struct kv_entry **v = NULL;
	size_t plen = strlen(path);
	char *tmp = NULL, *dir = NULL;
	bool oom;
	int dfd = -1, rc = -1, saved;

	memset(&w, 0, sizeof(w));
	w.fd = -1;
	memset(&s, 0, sizeof(s));
	if(st) {
		memset(st, 0, sizeof(*st));
		st->torn_at = UINT64_MAX;
	}
	tmp = malloc(plen + sizeof(".tmp"));
	dir = dir_of(path);
	if(!tmp || !dir) {
		set_err(err, errlen, "compact (out of memory)", path, ENOMEM);
		goto out;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", sizeof(".tmp"));
	s.map = &m;
	s.on_damage = on_damage;
	s.arg = arg;
	if((rc = scan_for_compact(path, &w, &s, err, errlen)) != 0) {
		goto out;
	}
	rc = -1;
	fill_stats(st, &s, m.count);
	v = map_sorted(&m, &oom);
	if(oom) {
		set_err(err, errlen, "compact (out of memory)", path, ENOMEM);
		goto out;
	}
	if(write_compacted(&w, v, m.count, path, tmp, err, errlen) != 0) {
		goto out;
	}
	if(rename(tmp, path) != 0) {
		set_err(err, errlen, "rename", tmp, errno);
		unlink(tmp);
		goto out;
	}
	/* The rename itself is durable only once the directory is synced. From
	 * here on path holds the new file whatever happens, so a failure is
	 * still reported but nothing is undone. */
	dfd = open_retry(dir, O_RDONLY | O_DIRECTORY, 0);
	if(dfd < 0 || fsync_retry(dfd, false) != 0) {
		set_err(err, errlen, "fsync directory", dir, errno);
		goto out;
	}
	rc = 0;
out:
	saved = errno; /* for the caller: cleanup must not change it */
	if(dfd >= 0) {
		close(dfd);
	}
	win_close(&w);
	free(v);
	map_free(&m);
	free(tmp);
	free(dir);
	errno = saved;
	return rc;
}

/* ---- the queue view: every record in order from an offset ---- */

struct read_ctx {
	int (*fn)(const char *key, const void *val, size_t len, uint64_t end, void *arg);
	jw_kvlog_damage_fn *on_damage;
	void *arg;
};

static int read_damage_cb(const struct jw_kvlog_damage *d, void *arg)
{
	struct read_ctx *c = arg;

	return c->on_damage ? c->on_damage(d, c->arg) : 0;
}

static int read_record_cb(struct win *w, const struct rec *r, uint64_t off, void *arg)
{
	struct read_ctx *c = arg;
	char key[JW_KVLOG_KEY_MAX + 1];
	const unsigned char *val = r->p + KV_HDR + r->klen;

	(void)w;
	/* The key is handed over NUL-terminated. */
	memcpy(key, r->p + KV_HDR, r->klen);
	key[r->klen] = '\0';
	return c->fn(key, r->vlen == KV_DELETED ? NULL : val, r->vlen == KV_DELETED ? 0 : r->vlen,
	        off + r->size, c->arg);
}

static int read_win(struct win *w, uint64_t from, uint64_t limit,
        int (*fn)(const char *key, const void *val, size_t len, uint64_t end, void *arg),
        jw_kvlog_damage_fn *on_damage, void *arg, uint64_t *end)
{
	struct read_ctx c = {fn, on_damage, arg};
	int rc;

	if(limit < w->end) {
		w->end = limit;
	}
	if(from >= w->end) {
		*end = from;
		return 0;
	}
	rc = walk(w, from, read_record_cb, read_damage_cb, &c, end);
	if(rc == -1 && w->err) {
		errno = w->err;
	}
	return rc;
}

int jw_kvlog_read(const char *path, uint64_t from, uint64_t limit,
        int (*fn)(const char *key, const void *val, size_t len, uint64_t end, void *arg),
        jw_kvlog_damage_fn *on_damage, void *arg, uint64_t *end)
{
	struct win w;
	int rc, saved;

	*end = from;
	if(win_open(&w, path) != 0) {
		return -1;
	}
	rc = read_win(&w, from, limit, fn, on_damage, arg, end);
	saved = errno;
	win_close(&w);
	errno = saved;
	return rc;
}

int jw_kvlog_read_buf(const void *buf, size_t len, uint64_t from, uint64_t limit,
        int (*fn)(const char *key, const void *val, size_t len, uint64_t end, void *arg),
        jw_kvlog_damage_fn *on_damage, void *arg, uint64_t *end)
{
	struct win w;

	*end = from;
	win_init_mem(&w, buf, len);
	return read_win(&w, from, limit, fn, on_damage, arg, end);
}

int jw_kvlog_record_at(const char *path, uint64_t off)
{
	struct win w;
	struct rec r;
	int rc, saved;

	if(win_open(&w, path) != 0) {
		return -1;
	}
	rc = rec_at(&w, off, &r);
	if(rc < 0) {
		errno = w.err;
	}
	saved = errno;
	win_close(&w);
	errno = saved;
	return rc;
}
