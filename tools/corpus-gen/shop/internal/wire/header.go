// Package wire decodes the binary order-event wire format using unsafe.
package wire

import "unsafe"

// Header is the fixed 16-byte frame header.
type Header struct {
	Magic   uint32
	Version uint32
	OrderID int64
}

// DecodeHeader reinterprets b[off:] as a *Header without copying.
func DecodeHeader(b []byte, off int) *Header {
	return (*Header)(unsafe.Pointer(&b[off]))
}
