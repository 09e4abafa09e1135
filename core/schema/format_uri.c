/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * "format" checkers for uri, uri-reference, iri, iri-reference (RFC 3986,
 * RFC 3987) and uri-template (RFC 6570): recursive-descent scanners over
 * the RFCs' ABNF. An IRI is a URI whose unreserved characters may also be
 * any non-ASCII character (the instance is valid UTF-8 already).
 */
#include <stdbool.h>
#include <string.h>

#include "node.h"

struct scan {
	const unsigned char *s;
	size_t i, n;
	bool iri;
};

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool unreserved(const struct scan *p, unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
	       (p->iri && c >= 0x80);
}

static bool sub_delim(unsigned char c)
{
	return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

static bool at(const struct scan *p, char c)
{
	return p->i < p->n && p->s[p->i] == (unsigned char)c;
}

/* One character of the set: unreserved, sub-delims, a "%HH" escape, or
 * one of extra. Advances and returns true when there is one. */
static bool take(struct scan *p, const char *extra)
{
	if(p->i >= p->n)
		return false;
	unsigned char c = p->s[p->i];
	if(c == '%') {
		if(p->i + 2 < p->n && is_hex(p->s[p->i + 1]) && is_hex(p->s[p->i + 2])) {
			p->i += 3;
			return true;
		}
		return false;
	}
	if(unreserved(p, c) || sub_delim(c) || (c != '\0' && strchr(extra, c) != NULL)) {
		p->i++;
		return true;
	}
	return false;
}

/* RFC 3986 IP-literal: "[" (IPv6address | IPvFuture) "]". */
static bool ip_literal(struct scan *p)
{
	size_t start = ++p->i;

	while(p->i < p->n && p->s[p->i] != ']')
		p->i++;
	if(p->i >= p->n)
		return false;
	const char *in = (const char *)p->s + start;
	size_t len = p->i - start;
	p->i++;
	if(len > 1 && (in[0] == 'v' || in[0] == 'V')) {
		size_t k = 1;
		while(k < len && is_hex((unsigned char)in[k]))
			k++;
		if(k == 1 || k >= len || in[k] != '.' || k + 1 >= len)
			return false;
		for(k++; k < len; k++) {
			unsigned char c = (unsigned char)in[k];
			if(c == 0 || !(is_alpha(c) || is_digit(c) || strchr("-._~:", c) || sub_delim(c)))
				return false;
		}
		return true;
	}
	return jw_schema__format_ipv6(in, len);
}

/* authority = [userinfo "@"] host [":" port], after "//". */
static bool authority(struct scan *p)
{
	size_t end = p->i, at_sign = (size_t)-1;

	while(end < p->n && p->s[end] != '/' && p->s[end] != '?' && p->s[end] != '#') {
		if(p->s[end] == '@' && at_sign == (size_t)-1)
			at_sign = end;
		end++;
	}
	if(at_sign != (size_t)-1) {
		while(p->i < at_sign && take(p, ":"))
			;
		if(p->i != at_sign)
			return false;
		p->i++;
	}
	if(at(p, '[')) {
		if(!ip_literal(p))
			return false;
	} else {
		while(p->i < end && take(p, ""))
			;
	}
	if(at(p, ':')) {
		p->i++;
		while(p->i < end && is_digit(p->s[p->i]))
			p->i++;
	}
	return p->i == end;
}

/* path, then ["?" query] ["#" fragment]. noscheme: the first segment of
 * a relative path may not hold a ":" (it would read as a scheme). */
static bool path_query_fragment(struct scan *p, bool noscheme)
{
	bool first = true;

	while(p->i < p->n && p->s[p->i] != '?' && p->s[p->i] != '#') {
		if(at(p, '/')) {
			first = false;
			p->i++;
			continue;
		}
		if(first && noscheme && at(p, ':'))
			return false;
		if(!take(p, ":@"))
			return false;
	}
	if(at(p, '?')) {
		p->i++;
		while(take(p, ":@/?"))
			;
	}
	if(at(p, '#')) {
		p->i++;
		while(take(p, ":@/?"))
			;
	}
	return p->i == p->n;
}

/* hier-part or relative-part: ["//" authority] path ... */
static bool after_scheme(struct scan *p, bool noscheme)
{
	if(p->i + 1 < p->n && p->s[p->i] == '/' && p->s[p->i + 1] == '/') {
		p->i += 2;
		if(!authority(p))
			return false;
		noscheme = false;
	}
	return path_query_fragment(p, noscheme);
}

/* scheme ":" when there is one; leaves p->i after the ":". */
static bool scheme(struct scan *p)
{
	size_t i = 0;

	if(p->n == 0 || !is_alpha(p->s[0]))
		return false;
	for(i = 1; i < p->n; i++) {
		unsigned char c = p->s[i];
		if(c == ':')
			break;
		if(!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
			return false;
	}
	if(i >= p->n)
		return false;
	p->i = i + 1;
	return true;
}

static bool absolute(const char *s, size_t len, bool iri)
{
	struct scan p = {(const unsigned char *)s, 0, len, iri};

	return scheme(&p) && after_scheme(&p, false);
}

static bool reference(const char *s, size_t len, bool iri)
{
	struct scan p = {(const unsigned char *)s, 0, len, iri};

	if(scheme(&p))
		return after_scheme(&p, false);
	p.i = 0;
	return after_scheme(&p, true);
}

bool jw_schema__format_uri(const char *s, size_t len)
{
	return absolute(s, len, false);
}

bool jw_schema__format_uri_reference(const char *s, size_t len)
{
	return reference(s, len, false);
}

bool jw_schema__format_iri(const char *s, size_t len)
{
	return absolute(s, len, true);
}

bool jw_schema__format_iri_reference(const char *s, size_t len)
{
	return reference(s, len, true);
}

/* RFC 6570 varname: varchar *(["."] varchar), varchar = ALPHA / DIGIT /
 * "_" / pct-encoded; then an optional ":" max-length (1-9999) or "*". */
static bool varspec(const char *s, size_t len, size_t *i)
{
	size_t start = *i;
	bool dot_ok = false;

	while(*i < len) {
		unsigned char c = (unsigned char)s[*i];
		if(is_alpha(c) || is_digit(c) || c == '_') {
			(*i)++;
		} else if(c == '%' && *i + 2 < len && is_hex((unsigned char)s[*i + 1]) &&
		          is_hex((unsigned char)s[*i + 2])) {
			*i += 3;
		} else if(c == '.' && dot_ok) {
			(*i)++;
			dot_ok = false;
			continue;
		} else {
			break;
		}
		dot_ok = true;
	}
	if(*i == start || s[*i - 1] == '.')
		return false;
	if(*i < len && s[*i] == '*') {
		(*i)++;
	} else if(*i < len && s[*i] == ':') {
		size_t d = ++(*i);
		while(*i < len && is_digit((unsigned char)s[*i]) && *i - d < 5)
			(*i)++;
		if(*i == d || *i - d > 4 || s[d] == '0')
			return false;
	}
	return true;
}

/* "{" [operator] varspec *("," varspec) "}", starting after "{". */
static bool expression(const char *s, size_t len, size_t *i)
{
	if(*i < len && strchr("+#./;?&", s[*i]) != NULL && s[*i] != '\0')
		(*i)++;
	for(;;) {
		if(!varspec(s, len, i))
			return false;
		if(*i < len && s[*i] == ',') {
			(*i)++;
			continue;
		}
		break;
	}
	if(*i >= len || s[*i] != '}')
		return false;
	(*i)++;
	return true;
}

bool jw_schema__format_uri_template(const char *s, size_t len)
{
	for(size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if(c == '{') {
			i++;
			if(!expression(s, len, &i))
				return false;
		} else if(c == '%') {
			if(i + 2 >= len || !is_hex((unsigned char)s[i + 1]) || !is_hex((unsigned char)s[i + 2]))
				return false;
			i += 3;
		} else if(c <= 0x20 || c == 0x7f || strchr("\"<>\\^`{|}", c) != NULL) {
			return false;
		} else {
			i++;
		}
	}
	return true;
}
