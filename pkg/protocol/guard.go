package protocol

import (
	"encoding/binary"
	"errors"
)

// errBadLength is returned for msgpack data that declares more content than
// it holds.
var errBadLength = errors.New("msgpack value declares more data than the message holds")

// maxDepth bounds the nesting of msgpack values Endure accepts.
const maxDepth = 32

// checkLengths walks msgpack data without allocating and rejects it if any
// string, binary, extension, array or map declares more bytes or elements
// than remain, or if values nest deeper than maxDepth. The msgpack decoder
// allocates what a header declares before reading it, so a few hostile
// bytes could otherwise ask for gigabytes.
func checkLengths(data []byte) error {
	// pending counts the values still to read at each open level.
	pending := make([]uint64, 1, 8)
	pending[0] = 1
	pos := 0
	for len(pending) > 0 {
		if pending[len(pending)-1] == 0 {
			pending = pending[:len(pending)-1]
			continue
		}
		pending[len(pending)-1]--
		if pos >= len(data) {
			return errBadLength
		}
		c := data[pos]
		pos++
		var skip, children uint64
		need := func(n int) (uint64, bool) {
			if pos+n > len(data) {
				return 0, false
			}
			var v uint64
			switch n {
			case 1:
				v = uint64(data[pos])
			case 2:
				v = uint64(binary.BigEndian.Uint16(data[pos:]))
			case 4:
				v = uint64(binary.BigEndian.Uint32(data[pos:]))
			}
			pos += n
			return v, true
		}
		ok := true
		switch {
		case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3: // fixint, nil, bool
		case c >= 0x80 && c <= 0x8f: // fixmap
			children = 2 * uint64(c&0x0f)
		case c >= 0x90 && c <= 0x9f: // fixarray
			children = uint64(c & 0x0f)
		case c >= 0xa0 && c <= 0xbf: // fixstr
			skip = uint64(c & 0x1f)
		case c == 0xc4, c == 0xd9: // bin8, str8
			skip, ok = need(1)
		case c == 0xc5, c == 0xda: // bin16, str16
			skip, ok = need(2)
		case c == 0xc6, c == 0xdb: // bin32, str32
			skip, ok = need(4)
		case c == 0xc7: // ext8
			skip, ok = need(1)
			skip++
		case c == 0xc8: // ext16
			skip, ok = need(2)
			skip++
		case c == 0xc9: // ext32
			skip, ok = need(4)
			skip++
		case c == 0xca: // float32
			skip = 4
		case c == 0xcb: // float64
			skip = 8
		case c == 0xcc, c == 0xd0: // uint8, int8
			skip = 1
		case c == 0xcd, c == 0xd1:
			skip = 2
		case c == 0xce, c == 0xd2:
			skip = 4
		case c == 0xcf, c == 0xd3:
			skip = 8
		case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16
			skip = 1 + (1 << (c - 0xd4))
		case c == 0xdc: // array16
			children, ok = need(2)
		case c == 0xdd: // array32
			children, ok = need(4)
		case c == 0xde: // map16
			children, ok = need(2)
			children *= 2
		case c == 0xdf: // map32
			children, ok = need(4)
			children *= 2
		default: // 0xc1 is never used
			return errBadLength
		}
		if !ok || skip > uint64(len(data)-pos) {
			return errBadLength
		}
		pos += int(skip)
		if children > 0 {
			// Every element takes at least one byte.
			if children > uint64(len(data)-pos) {
				return errBadLength
			}
			if len(pending) >= maxDepth {
				return errBadLength
			}
			pending = append(pending, children)
		}
	}
	return nil
}
