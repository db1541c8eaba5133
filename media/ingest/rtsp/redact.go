package rtsp

import "strings"

// redacted replaces a password in URLs shown in logs and the API.
const redacted = "***"

// Redact returns rawURL with its password, if any, replaced by "***", for
// logs and the API. It works on the text rather than through net/url, which
// would re-escape the URL and rejects what cameras are often configured with:
// unescaped "@", "#" or "%" in the password ("rtsp://admin:p@ss#1@host/").
// The user information ends at the last "@" before the path; when the
// password holds a "/" too, at the first "@" after "://". A URL that cannot
// be split is returned as it is.
func Redact(rawURL string) string {
	i := strings.Index(rawURL, "://")
	if i < 0 {
		return rawURL
	}
	head, rest := rawURL[:i+3], rawURL[i+3:]

	authority := rest
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		authority = rest[:j]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		at = strings.IndexByte(rest, '@')
	}
	if at < 0 {
		return rawURL
	}
	colon := strings.IndexByte(rest[:at], ':')
	if colon < 0 {
		return rawURL // a user name alone
	}
	return head + rest[:colon+1] + redacted + rest[at:]
}
