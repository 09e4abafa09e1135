/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * "format" checkers for network names and addresses: ipv4, ipv6,
 * hostname, idn-hostname, email, idn-email. Internationalised labels are
 * checked by libidn2 (IDNA2008, RFC 5890-5893: code points, CONTEXTJ and
 * CONTEXTO rules, Bidi), never by hand-written tables.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "node.h"

#define LABEL_MAX 63
#define NAME_MAX_OCTETS 253
#define LOCAL_PART_MAX 64

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* RFC 2673 dotted quad: four decimal parts 0-255, no leading zeros, ASCII
 * digits only (no shorthand, hex or octal forms inet_aton would take). */
bool jw_schema__format_ipv4(const char *s, size_t len)
{
	size_t i = 0;

	for(int part = 0; part < 4; part++) {
		size_t start = i;
		int v = 0;
		if(part > 0) {
			if(i >= len || s[i] != '.')
				return false;
			start = ++i;
		}
		while(i < len && is_digit(s[i]) && i - start < 3)
			v = v * 10 + (s[i++] - '0');
		if(i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return false;
	}
	return i == len;
}

/* RFC 4291 section 2.2 text forms (with "::" and a trailing dotted quad),
 * as inet_pton reads them; no zone index, no white space. */
bool jw_schema__format_ipv6(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char addr[16];

	if(len == 0 || len >= sizeof buf)
		return false;
	for(size_t i = 0; i < len; i++)
		if(!is_digit(s[i]) && !strchr("abcdefABCDEF:.", s[i]))
			return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

/* The next code point of NUL-terminated UTF-8 (already valid), advancing
 * *p; 0 at the end. */
static uint32_t next_cp(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c = s[0];
	int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;

	if(c == 0)
		return 0;
	if(extra > 0)
		c &= 0x3Fu >> extra;
	for(int k = 1; k <= extra && s[k] != 0; k++)
		c = (c << 6) | (s[k] & 0x3Fu);
	*p = s + 1 + extra;
	return c;
}

static bool greek(uint32_t c)
{
	return (c >= 0x0370 && c <= 0x03FF && !(c >= 0x03E2 && c <= 0x03EF)) ||
	       (c >= 0x1F00 && c <= 0x1FFF);
}

static bool hebrew(uint32_t c)
{
	return (c >= 0x0591 && c <= 0x05F4) || (c >= 0xFB1D && c <= 0xFB4F);
}

static bool kana_or_han(uint32_t c)
{
	return (c >= 0x3040 && c <= 0x30FF && c != 0x30FB) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
	       (c >= 0x20000 && c <= 0x2FA1F) || c == 0x3005 || c == 0x3007 ||
	       (c >= 0x3021 && c <= 0x3029) || (c >= 0x3038 && c <= 0x303B);
}

static bool right_to_left(uint32_t c)
{
	return (c >= 0x0590 && c <= 0x08FF) || (c >= 0xFB1D && c <= 0xFDFF) ||
	       (c >= 0xFE70 && c <= 0xFEFF);
}

/* Bidi classes EN (European digits) and AN (Arabic-Indic digits). */
static bool bidi_en(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 0x06F0 && c <= 0x06F9);
}

static bool bidi_an(uint32_t c)
{
	return (c >= 0x0660 && c <= 0x0669) || c == 0x066B || c == 0x066C;
}

/*
 * The CONTEXTO rules of RFC 5892 appendix A.3-A.9, which libidn2 leaves
 * out (it checks CONTEXTJ), and rule 4 of the Bidi rule (RFC 5893 section
 * 2: no European and Arabic-Indic digits together in a right-to-left
 * label), over one U-label in UTF-8. *rtl says whether the label has a
 * right-to-left character.
 */
static bool label_context_ok(const char *label, bool *rtl)
{
	const unsigned char *p = (const unsigned char *)label;
	uint32_t prev = 0, c;
	bool arabic_indic = false, extended = false, en = false, an = false;
	bool katakana_dot = false, kana = false;

	*rtl = false;
	while((c = next_cp(&p)) != 0) {
		const unsigned char *q = p;
		uint32_t next = next_cp(&q);
		if(c == 0x00B7 && (prev != 'l' || next != 'l'))
			return false;
		if(c == 0x0375 && !greek(next))
			return false;
		if((c == 0x05F3 || c == 0x05F4) && !hebrew(prev))
			return false;
		katakana_dot |= c == 0x30FB;
		kana |= kana_or_han(c);
		arabic_indic |= c >= 0x0660 && c <= 0x0669;
		extended |= c >= 0x06F0 && c <= 0x06F9;
		en |= bidi_en(c);
		an |= bidi_an(c);
		*rtl |= right_to_left(c);
		prev = c;
	}
	if((katakana_dot && !kana) || (arabic_indic && extended))
		return false;
	return !(*rtl && en && an);
}

/*
 * An A-label ("xn--..."): the Punycode must decode, the decoded U-label
 * must be valid IDNA2008 and non-ASCII, and encoding it again must give
 * back the same label (no non-canonical Punycode).
 */
static bool a_label(const char *s, size_t len)
{
	char in[LABEL_MAX + 1];
	char *u = NULL;
	uint8_t *a = NULL;
	bool ok = false;

	for(size_t i = 0; i < len; i++)
		in[i] = lower(s[i]);
	in[len] = '\0';
	if(idn2_to_unicode_8z8z(in, &u, 0) != IDN2_OK)
		return false;
	for(const char *p = u; *p != '\0'; p++)
		if((unsigned char)*p >= 0x80)
			ok = true;
	if(ok && idn2_lookup_u8((const uint8_t *)u, &a, IDN2_NO_TR46) != IDN2_OK)
		ok = false;
	if(ok && strcmp((const char *)a, in) != 0)
		ok = false;
	bool rtl;
	if(ok && !label_context_ok(u, &rtl))
		ok = false;
	idn2_free(a);
	idn2_free(u);
	return ok;
}

/* RFC 1123 section 2.1 label: 1-63 letters, digits and hyphens, not
 * starting or ending with a hyphen; an A-label must be a valid one. */
static bool ldh_label(const char *s, size_t len)
{
	if(len == 0 || len > LABEL_MAX || s[0] == '-' || s[len - 1] == '-')
		return false;
	for(size_t i = 0; i < len; i++)
		if(!is_alnum(s[i]) && s[i] != '-')
			return false;
	if(len >= 4 && s[2] == '-' && s[3] == '-') {
		if(lower(s[0]) != 'x' || lower(s[1]) != 'n')
			return false;
		return a_label(s, len);
	}
	return true;
}

bool jw_schema__format_hostname(const char *s, size_t len)
{
	size_t start = 0;

	if(len == 0 || len > NAME_MAX_OCTETS)
		return false;
	for(size_t i = 0; i <= len; i++) {
		if(i < len && s[i] != '.')
			continue;
		if(!ldh_label(s + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

/* The length of an IDNA label separator at s (".", U+3002, U+FF0E,
 * U+FF61), or 0. */
static size_t separator(const char *s, size_t left)
{
	const unsigned char *u = (const unsigned char *)s;

	if(left >= 1 && u[0] == '.')
		return 1;
	if(left >= 3 && ((u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x82) ||
	                        (u[0] == 0xEF && u[1] == 0xBC && u[2] == 0x8E) ||
	                        (u[0] == 0xEF && u[1] == 0xBD && u[2] == 0xA1)))
		return 3;
	return 0;
}

/*
 * RFC 5890 section 2.3.2.3 IDN: labels split on the four IDNA dots, each
 * an LDH label (A-labels checked) or a U-label libidn2 accepts under
 * IDNA2008 (flags: NFC first or not). The whole name, as A-labels, must
 * be at most 253 octets, and is checked once more as a whole so the Bidi
 * rule sees every label of a name that has right-to-left ones.
 */
static bool idn_hostname(const char *s, size_t len, int flags)
{
	char *ascii_name = NULL;
	size_t start = 0, total = 0, seps = 0;
	bool ok = true, rtl = false, digit_first = false;

	if(len == 0 || memchr(s, '\0', len) != NULL)
		return false;
	char *name = malloc(len + 1);
	if(name == NULL)
		return false;
	size_t nlen = 0;
	for(size_t i = 0; ok && i <= len;) {
		size_t sep = i < len ? separator(s + i, len - i) : 0;
		if(i < len && sep == 0) {
			i++;
			continue;
		}
		size_t llen = i - start;
		bool ascii = true;
		for(size_t k = start; k < i; k++)
			if((unsigned char)s[k] >= 0x80)
				ascii = false;
		memcpy(name + nlen, s + start, llen);
		nlen += llen;
		if(llen > 0 && is_digit(s[start]))
			digit_first = true;
		if(llen == 0) {
			ok = false;
		} else if(ascii) {
			ok = ldh_label(s + start, llen);
			total += llen;
		} else {
			uint8_t *a = NULL;
			char *label = strndup(s + start, llen);
			bool label_rtl = false;
			ok = label != NULL && idn2_lookup_u8((const uint8_t *)label, &a, flags) == IDN2_OK &&
			     strlen((const char *)a) <= LABEL_MAX && label_context_ok(label, &label_rtl);
			rtl |= label_rtl;
			if(ok)
				total += strlen((const char *)a);
			idn2_free(a);
			free(label);
		}
		if(i < len) {
			name[nlen++] = '.';
			seps++;
		}
		i += sep > 0 ? sep : 1;
		start = i;
	}
	name[nlen] = '\0';
	if(ok && total + seps > NAME_MAX_OCTETS)
		ok = false;
	/* Bidi rule 1 over a name with right-to-left labels: every label
	 * starts with a letter, so not with a digit. */
	if(ok && rtl && digit_first)
		ok = false;
	if(ok && idn2_lookup_u8((const uint8_t *)name, (uint8_t **)&ascii_name, flags) != IDN2_OK)
		ok = false;
	idn2_free(ascii_name);
	free(name);
	return ok;
}

bool jw_schema__format_idn_hostname(const char *s, size_t len)
{
	return idn_hostname(s, len, IDN2_NO_TR46);
}

/* RFC 5322 atext, and with intl any non-ASCII byte (RFC 6531). */
static bool atext(char c, bool intl)
{
	return is_alnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL ||
	       (intl && (unsigned char)c >= 0x80);
}

/* The local part of a mailbox, up to its "@": a dot-string or a quoted
 * string (RFC 5321 section 4.1.2). Returns its length, or 0. */
static size_t local_part(const char *s, size_t len, bool intl)
{
	size_t i = 0;

	if(len > 0 && s[0] == '"') {
		for(i = 1; i < len && s[i] != '"'; i++) {
			unsigned char c = (unsigned char)s[i];
			if(c == '\\') {
				if(++i >= len || (unsigned char)s[i] < 32 || (unsigned char)s[i] > 126)
					return 0;
			} else if(c < 32 || c == 127 || (c >= 0x80 && !intl)) {
				return 0;
			}
		}
		return i < len ? i + 1 : 0;
	}
	while(i < len && s[i] != '@') {
		size_t start = i;
		while(i < len && s[i] != '\0' && atext(s[i], intl))
			i++;
		if(i == start)
			return 0;
		if(i < len && s[i] == '.')
			i++;
		else
			break;
	}
	return i > 0 && s[i - 1] != '.' ? i : 0;
}

/* RFC 5321 Mailbox: local-part "@" (domain | address literal); with intl
 * the RFC 6531 forms (UTF-8 in the local part, an IDN domain). */
static bool mailbox(const char *s, size_t len, bool intl)
{
	size_t l = local_part(s, len, intl);

	if(l == 0 || l > LOCAL_PART_MAX || l >= len || s[l] != '@')
		return false;
	const char *d = s + l + 1;
	size_t dlen = len - l - 1;
	if(dlen >= 2 && d[0] == '[' && d[dlen - 1] == ']') {
		if(dlen > 7 && strncmp(d + 1, "IPv6:", 5) == 0)
			return jw_schema__format_ipv6(d + 6, dlen - 7);
		return jw_schema__format_ipv4(d + 1, dlen - 2);
	}
	if(intl)
		return idn_hostname(d, dlen, IDN2_NO_TR46 | IDN2_NFC_INPUT);
	return jw_schema__format_hostname(d, dlen);
}

bool jw_schema__format_email(const char *s, size_t len)
{
	return mailbox(s, len, false);
}

bool jw_schema__format_idn_email(const char *s, size_t len)
{
	return mailbox(s, len, true);
}
