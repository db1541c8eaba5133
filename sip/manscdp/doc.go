// Package manscdp reads and writes MANSCDP bodies, the XML that GB/T
// 28181-2016 carries in SIP MESSAGE and NOTIFY requests
// (Content-Type: Application/MANSCDP+xml, Annex A).
//
// Decode is built for what devices send rather than for the text of the
// standard: GB2312 by default but also GB18030 and UTF-8, under an XML
// declaration that may name the wrong one; a byte order mark, whitespace or
// NULs around the root; element names in any case; unclosed or truncated
// elements; numbers padded with spaces; missing fields; times with a space
// instead of the T, milliseconds or a meaningless Z. A byte that does not
// decode becomes U+FFFD instead of dropping the message. Decode is a parser
// of network input: it never panics and bounds what it allocates
// (MaxBodySize, MaxItems).
//
// Encode writes a Message, built with NewQuery, NewPTZControl and the other
// builders, in the charset the device uses.
//
// Assembler puts together Catalog and RecordInfo responses that arrive over
// many messages.
package manscdp
